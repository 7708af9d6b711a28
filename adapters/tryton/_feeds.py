"""Catalog and stock from Tryton, polled with watermarks on create_date/write_date.

A template is a product, its `product.product` rows are the variants (SKU = the product code).
Stock is `quantity` per warehouse (GATEWAY_TRYTON_STOCK=on_hand), or `forecast_quantity`, which
a confirmed sale lowers (`forecast`): then the read model adds back what the gateway allocated
to the sales it handed over, so an order counts once. The gateway's own allocations are never
taken from Tryton: they live in the gateway and survive every sync.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from adapters.ports.feeds import (
    CatalogChanges,
    StockChanges,
    UpstreamLevel,
    UpstreamLocation,
    UpstreamProduct,
    UpstreamVariant,
)
from adapters.records import LocationKind, Money, SelectedOption
from adapters.tryton._client import TrytonClient

# One transaction shares one timestamp and clocks are not atomic: re-read a little behind the
# watermark and let the read model drop what did not change.
OVERLAP = timedelta(seconds=2)
PAGE = 500

_PRODUCT_FIELDS = [
    "code",
    "suffix_code",
    "description",
    "create_date",
    "write_date",
    "template",
    "template.name",
    "template.list_price",
    "template.categories",
    "template.write_date",
]


def _since(watermark: str | None) -> datetime | None:
    return datetime.fromisoformat(watermark) - OVERLAP if watermark else None


def _latest(rows: list[dict[str, Any]], *fields: str) -> datetime | None:
    stamps = [row.get(f) for row in rows for f in fields]
    stamps += [(row.get("template.") or {}).get("write_date") for row in rows]
    found = [s for s in stamps if isinstance(s, datetime)]
    return max(found) if found else None


def _advance(watermark: str | None, latest: datetime | None) -> str | None:
    if latest is None:
        return watermark
    if watermark and datetime.fromisoformat(watermark) >= latest:
        return watermark
    return latest.isoformat()


class TrytonCatalogFeed:
    def __init__(self, client: TrytonClient) -> None:
        self._client = client

    async def catalog_changes(self, since: str | None) -> CatalogChanges:
        domain: list[Any] = [["template.salable", "=", True]]
        if (after := _since(since)) is not None:
            domain.append(
                [
                    "OR",
                    ["create_date", ">", after],
                    ["write_date", ">", after],
                    ["template.write_date", ">", after],
                ]
            )
        rows = await self._all("product.product", domain, _PRODUCT_FIELDS)
        categories = await self._category_names(rows)
        currency = self._client.currency_code
        templates: dict[int, list[dict[str, Any]]] = {}
        for row in rows:
            templates.setdefault(row["template"], []).append(row)
        products = []
        for template_id, variants in templates.items():
            tpl = variants[0].get("template.") or {}
            category_ids = tpl.get("categories") or []
            price = tpl.get("list_price")
            products.append(
                UpstreamProduct(
                    key=str(template_id),
                    title=tpl.get("name") or variants[0]["code"],
                    description=variants[0].get("description") or "",
                    category=categories.get(category_ids[0], "") if category_ids else "",
                    vendor="",
                    variants=tuple(
                        _variant(v, None if price is None else Money(Decimal(price), currency))
                        for v in sorted(variants, key=lambda v: v["id"])
                        if v.get("code")
                    ),
                )
            )
        latest = _latest(rows, "create_date", "write_date")
        # Every variant Tryton sells now (inactive and deleted ones are not found): what the
        # gateway had and is missing here is withdrawn.
        selling = await self._all("product.product", [["template.salable", "=", True]], ["id"])
        return CatalogChanges(products, _advance(since, latest), frozenset(str(r["id"]) for r in selling))

    async def _all(self, model: str, domain: list[Any], fields: list[str]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        while True:
            page = await self._client.search_read(
                model, domain, fields, offset=len(rows), limit=PAGE, order=[["id", "ASC"]]
            )
            rows.extend(page)
            if len(page) < PAGE:
                return rows

    async def _category_names(self, rows: list[dict[str, Any]]) -> dict[int, str]:
        ids = sorted({c for r in rows for c in (r.get("template.") or {}).get("categories") or []})
        if not ids:
            return {}
        found = await self._client.model("product.category", "read", ids, ["name"])
        return {c["id"]: c["name"] for c in found}


def _variant(row: dict[str, Any], price: Money | None) -> UpstreamVariant:
    suffix = (row.get("suffix_code") or "").strip("-_ /")
    return UpstreamVariant(
        key=str(row["id"]),
        sku=row["code"],
        title=suffix or "Default",
        selected_options=(SelectedOption("Variant", suffix),) if suffix else (),
        price=price,
    )


class TrytonStockFeed:
    def __init__(self, client: TrytonClient, *, forecast: bool = False) -> None:
        self._client = client
        self._forecast = forecast
        self._warehouses: list[dict[str, Any]] | None = None

    async def stock_locations(self) -> list[UpstreamLocation]:
        return [
            UpstreamLocation(str(w["id"]), w["code"], w["name"], LocationKind.WAREHOUSE)
            for w in await self._warehouse_rows(refresh=True)
        ]

    async def stock_changes(self, since: str | None) -> StockChanges:
        after = _since(since)
        if after is None:
            # Take the watermark first: a move made while we read is caught next time.
            latest = await self._latest_move()
            return StockChanges(await self._levels(None), _advance(None, latest))
        moves = await self._client.search_read(
            "stock.move",
            ["OR", ["create_date", ">", after], ["write_date", ">", after]],
            ["product", "create_date", "write_date"],
        )
        product_ids = sorted({m["product"] for m in moves})
        if not product_ids:
            return StockChanges([], since)
        levels = await self._levels(product_ids)
        return StockChanges(levels, _advance(since, _latest(moves, "create_date", "write_date")))

    async def _levels(self, product_ids: list[int] | None) -> list[UpstreamLevel]:
        domain: list[Any] = [["template.type", "=", "goods"]]
        if product_ids is not None:
            domain.append(["id", "in", product_ids])
        levels = []
        # Tryton sums the locations of one context: one call per warehouse.
        for warehouse in await self._warehouse_rows():
            rows = await self._client.search_read(
                "product.product",
                domain,
                ["code", "quantity", "forecast_quantity"],
                context={"locations": [warehouse["id"]]},
            )
            for row in rows:
                if not row.get("code"):
                    continue
                if self._forecast:
                    forecast = int(row.get("forecast_quantity") or 0)
                    levels.append(UpstreamLevel(row["code"], warehouse["code"], forecast, True))
                else:
                    on_hand = int(row.get("quantity") or 0)
                    levels.append(UpstreamLevel(row["code"], warehouse["code"], on_hand))
        return levels

    async def _latest_move(self) -> datetime | None:
        stamps = []
        for field in ("create_date", "write_date"):
            rows = await self._client.search_read(
                "stock.move", [[field, "!=", None]], [field], limit=1, order=[[field, "DESC"]]
            )
            stamps += [r[field] for r in rows]
        return max(stamps) if stamps else None

    async def _warehouse_rows(self, refresh: bool = False) -> list[dict[str, Any]]:
        if self._warehouses is None or refresh:
            self._warehouses = [
                w
                for w in await self._client.search_read(
                    "stock.location", [["type", "=", "warehouse"]], ["name", "code"]
                )
                if w.get("code")
            ]
        return self._warehouses
