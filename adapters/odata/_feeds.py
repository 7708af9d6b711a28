"""Catalog and stock from S/4HANA's API_PRODUCT_SRV and API_MATERIAL_STOCK_SRV.

A configurable (generic) product is a gateway product; the materials that name it in
`CrossPlantConfigurableProduct` are its variants (SKU = material number); a material that names
none is a product of its own. The catalog is polled on `LastChangeDateTime`; stock has no
timestamp, so every poll reads a snapshot of unrestricted stock and the read model keeps only
the differences. Sales prices live in SAP's pricing conditions, which this adapter does not
read: the gateway keeps its own prices for these products.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from adapters.odata._client import ODataClient, parse_date
from adapters.odata._config import ODataConfig
from adapters.ports.feeds import (
    CatalogChanges,
    StockChanges,
    UpstreamLevel,
    UpstreamLocation,
    UpstreamProduct,
    UpstreamVariant,
)
from adapters.records import LocationKind, SelectedOption

PRODUCTS, STOCK = "API_PRODUCT_SRV", "API_MATERIAL_STOCK_SRV"
OVERLAP = timedelta(seconds=2)
UNRESTRICTED = "01"
_FIELDS = ["Product", "ProductType", "CrossPlantConfigurableProduct", "ProductGroup",
           "IsMarkedForDeletion", "LastChangeDateTime"]  # fmt: skip


def _stamp(moment: datetime) -> str:
    # The format SAP (and the mock) accept in a datetimeoffset literal: milliseconds and Z.
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class ODataCatalogFeed:
    def __init__(self, client: ODataClient, config: ODataConfig) -> None:
        self._client = client
        self._language = config.language

    async def catalog_changes(self, since: str | None) -> CatalogChanges:
        lang = f"Language eq '{self._language}'"
        if since is None:
            rows = await self._client.get_all(PRODUCTS, "A_Product", select=_FIELDS)
            texts = await self._client.get_all(
                PRODUCTS,
                "A_ProductDescription",
                filter=lang,
                select=["Product", "ProductDescription"],
            )
            changed = rows
        else:
            after = _stamp(datetime.fromisoformat(since) - OVERLAP)
            changed = await self._client.get_all(
                PRODUCTS,
                "A_Product",
                filter=f"LastChangeDateTime gt datetimeoffset'{after}'",
                select=_FIELDS,
            )
            generics = {r["CrossPlantConfigurableProduct"] or r["Product"] for r in changed}
            # A changed variant needs its generic, a changed generic all its variants.
            rows = await self._client.get_by_keys(
                PRODUCTS, "A_Product", "Product", generics, select=_FIELDS
            ) + await self._client.get_by_keys(
                PRODUCTS, "A_Product", "CrossPlantConfigurableProduct", generics, select=_FIELDS
            )
            texts = await self._client.get_by_keys(
                PRODUCTS, "A_ProductDescription", "Product", {r["Product"] for r in rows},
                also=lang, select=["Product", "ProductDescription"],
            )  # fmt: skip
        names = {t["Product"]: t["ProductDescription"] for t in texts}
        stamps = [s for r in changed if (s := parse_date(r.get("LastChangeDateTime")))]
        watermark = max(stamps).isoformat() if stamps else since
        if since and watermark and datetime.fromisoformat(watermark) < datetime.fromisoformat(since):
            watermark = since
        return CatalogChanges(_products(rows, names), watermark)


def _products(rows: list[dict[str, Any]], names: dict[str, str]) -> list[UpstreamProduct]:
    live = {r["Product"]: r for r in rows if not r.get("IsMarkedForDeletion")}
    members: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in live.values():
        generic = row.get("CrossPlantConfigurableProduct")
        if generic:
            members[generic].append(row)
        elif row.get("ProductType") != "KMAT":  # a plain material sells as itself
            members[row["Product"]].append(row)
    products = []
    for key, variants in sorted(members.items()):
        head = live.get(key, variants[0])
        title = names.get(key) or key
        products.append(
            UpstreamProduct(
                key=key,
                title=title,
                description="",
                category=head.get("ProductGroup") or "",
                vendor="",
                variants=tuple(
                    _variant(v, names.get(v["Product"], ""), title)
                    for v in sorted(variants, key=lambda v: v["Product"])
                ),
            )
        )
    return products


def _variant(row: dict[str, Any], name: str, product_title: str) -> UpstreamVariant:
    title = name[len(product_title) :].strip() if name.startswith(product_title) else name
    return UpstreamVariant(
        key=row["Product"],
        sku=row["Product"],
        title=title or "Default",
        selected_options=(SelectedOption("Variant", title),) if title else (),
        price=None,
    )


class ODataStockFeed:
    def __init__(self, client: ODataClient, config: ODataConfig) -> None:
        self._client = client
        self._plants = config.plant_codes()

    async def stock_locations(self) -> list[UpstreamLocation]:
        return [
            UpstreamLocation(plant, code, f"Plant {plant}", LocationKind.WAREHOUSE)
            for plant, code in sorted(self._plants.items())
        ]

    async def stock_changes(self, since: str | None) -> StockChanges:
        rows = await self._client.get_all(
            STOCK,
            "A_MatlStkInAcctMod",
            filter=f"InventoryStockType eq '{UNRESTRICTED}'",
            select=["Material", "Plant", "MatlWrhsStkQtyInMatlBaseUnit"],
        )
        totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for row in rows:  # storage locations and batches add up to the plant's stock
            totals[(row["Material"], row["Plant"])] += Decimal(str(row["MatlWrhsStkQtyInMatlBaseUnit"]))
        levels = [
            UpstreamLevel(material, self._plants.get(plant, plant), int(quantity))
            for (material, plant), quantity in sorted(totals.items())
        ]
        return StockChanges(levels, None)
