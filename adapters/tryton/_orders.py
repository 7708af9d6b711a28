"""Orders pushed as Tryton sales: create, quote, confirm; the gateway's order number is the
sale's `reference` and the natural idempotency key (looked up before anything is created)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.records import OrderPush, OrderState, PushedOrder
from adapters.tryton._client import TrytonClient
from adapters.tryton._exceptions import TrytonUserError
from adapters.tryton._members import TrytonMembers, address_values

_STATES = {
    "draft": OrderState.PENDING,
    "quotation": OrderState.PENDING,
    "confirmed": OrderState.CONFIRMED,
    "processing": OrderState.PROCESSING,
    "done": OrderState.FULFILLED,
    "cancelled": OrderState.CANCELLED,
}


class TrytonOrders:
    def __init__(self, client: TrytonClient, members: TrytonMembers, warehouse: str | None) -> None:
        self._client = client
        self._members = members
        self._warehouse = warehouse

    async def push_order(self, order: OrderPush) -> PushedOrder:
        [sale] = await self._sales([order.reference]) or [None]
        created = sale is None
        if sale is None:
            sale = await self._create(order)
        # A push cut short last time left a draft or a quotation: carry it on from there.
        if sale["state"] == "draft":
            await self._client.model("sale.sale", "quote", [sale["id"]])
            sale["state"] = "quotation"
        if sale["state"] == "quotation":
            await self._client.model("sale.sale", "confirm", [sale["id"]])
        [sale] = await self._sales([order.reference])
        return _pushed(sale, created)

    async def order_states(self, references: Sequence[str]) -> list[PushedOrder]:
        return [_pushed(s, False) for s in await self._sales(list(references))]

    async def _sales(self, references: list[str]) -> list[dict[str, Any]]:
        return await self._client.search_read(
            "sale.sale", [["reference", "in", references]], ["reference", "state", "number"]
        )

    async def _party(self, order: OrderPush) -> int:
        """The customer's party, found by email; created only when there is none. The ERP owns
        an existing party: its name and addresses are never written from here."""
        [found] = (await self._members.members_by_emails([order.customer.email]))[:1] or [None]
        if found is None:
            found = await self._members.upsert_member(order.customer)
        return int(found.key)

    async def _address(self, party: int, order: OrderPush) -> int:
        """Where the sale ships and is invoiced: the party's address that matches the order's,
        a new one on the party for a new shipping address, or the party's first one."""
        rows = await self._client.search_read(
            "party.address",
            [["party", "=", party]],
            ["street", "city", "postal_code"],
            order=[["sequence", "ASC"], ["id", "ASC"]],
        )
        wanted = order.customer.address
        if wanted is not None:
            values = address_values(wanted)
            for row in rows:
                if all((row.get(k) or "") == (v or "") for k, v in values.items()):
                    return int(row["id"])
            [created] = await self._client.model("party.address", "create", [{**values, "party": party}])
            return int(created)
        if not rows:
            raise TrytonUserError(
                "NoAddress",
                f"party {party} ({order.customer.email}) has no address and the order carries "
                "none: add an address to the party in Tryton, then replay the message",
            )
        return int(rows[0]["id"])

    async def _create(self, order: OrderPush) -> dict[str, Any]:
        party = await self._party(order)
        address = await self._address(party, order)
        skus = sorted({line.sku for line in order.lines})
        products = {
            p["code"]: p
            for p in await self._client.search_read(
                "product.product", [["code", "in", skus]], ["code", "default_uom"]
            )
        }
        missing = [s for s in skus if s not in products]
        if missing:
            raise TrytonUserError("UnknownProduct", f"no product with code {', '.join(missing)}")
        [currency] = await self._client.search_read(
            "currency.currency", [["code", "=", order.currency_code]], ["code"]
        ) or [None]
        if currency is None:
            raise TrytonUserError("UnknownCurrency", order.currency_code)
        values: dict[str, Any] = {
            "party": party,
            "invoice_address": address,
            "shipment_address": address,
            "currency": currency["id"],
            "invoice_method": "manual",
            "reference": order.reference,
            "lines": [
                [
                    "create",
                    [
                        {
                            "type": "line",
                            "product": products[line.sku]["id"],
                            "quantity": line.quantity,
                            "unit": products[line.sku]["default_uom"],
                            "unit_price": line.unit_price.amount,
                        }
                        for line in order.lines
                    ],
                ]
            ],
        }
        warehouse = await self._warehouse_id(order.location_code or self._warehouse)
        if warehouse is not None:
            values["warehouse"] = warehouse
        [sale_id] = await self._client.model("sale.sale", "create", [values])
        return {"id": sale_id, "state": "draft"}

    async def _warehouse_id(self, code: str | None) -> int | None:
        domain: list[Any] = [["type", "=", "warehouse"]]
        if code:
            domain.append(["code", "=", code])
        found = await self._client.search_read(
            "stock.location", domain, ["code"], limit=1, order=[["id", "ASC"]]
        )
        return found[0]["id"] if found else None


def _pushed(sale: dict[str, Any], created: bool) -> PushedOrder:
    return PushedOrder(
        reference=sale["reference"],
        external_id=str(sale.get("number") or sale["id"]),
        state=_STATES.get(sale["state"], OrderState.PENDING),
        created=created,
    )
