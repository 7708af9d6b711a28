"""Orders pushed as Tryton sales: create, quote, confirm; the gateway's order number is the
sale's `reference` and the natural idempotency key (looked up before anything is created)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.records import OrderPush, OrderState, PushedOrder
from adapters.tryton._client import TrytonClient
from adapters.tryton._exceptions import TrytonUnavailable, TrytonUserError
from adapters.tryton._members import TrytonMembers, address_values

_STATES = {
    "draft": OrderState.PENDING,
    "quotation": OrderState.PENDING,
    "confirmed": OrderState.CONFIRMED,
    "processing": OrderState.PROCESSING,
    "done": OrderState.FULFILLED,
    "cancelled": OrderState.CANCELLED,
}


# The button that moves a customer shipment on, from each state, until it is done.
_SHIP_STEPS = {
    "draft": "wait",
    "waiting": "assign_force",
    "assigned": "pick",
    "picked": "pack",
    "packed": "do",
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

    async def fulfillment_changed(self, reference: str, event: str, lines: Sequence[tuple[str, int]]) -> str:
        """The gateway shipped (or handed over) the sale's goods: its customer shipments are
        done; or they never will be: a sale not yet confirmed is cancelled, else its open
        shipments are. (One sale has one warehouse: its shipments are the fulfillment's.)"""
        sale = await self._sale(reference)
        if event == "cancelled" and sale["state"] in ("draft", "quotation"):
            await self._client.model("sale.sale", "cancel", [sale["id"]])
            return "cancelled"
        if sale["state"] == "confirmed":  # the shipments come with processing
            await self._client.model("sale.sale", "process", [sale["id"]])
        shipments = await self._client.search_read(
            "stock.shipment.out", [["id", "in", await self._shipment_ids(sale["id"])]], ["state"]
        )
        for shipment in shipments:
            if event == "cancelled":
                if shipment["state"] not in ("done", "cancelled"):
                    await self._client.model("stock.shipment.out", "cancel", [shipment["id"]])
                continue
            state = shipment["state"]
            for _ in range(6):  # draft -> waiting -> assigned -> picked -> packed -> done
                step = _SHIP_STEPS.get(state)
                if step is None:
                    break
                await self._client.model("stock.shipment.out", step, [shipment["id"]])
                [row] = await self._client.model("stock.shipment.out", "read", [shipment["id"]], ["state"])
                state = row["state"]
            if state != "done":
                raise TrytonUserError("ShipmentStuck", f"shipment {shipment['id']} of {reference} is {state}")
        return event

    async def order_returned(self, reference: str, return_ref: str, lines: Sequence[tuple[str, int]]) -> str:
        """Goods came back: a return sale (negative quantities, at the original prices) that
        Tryton turns into a customer return shipment; its reference is the natural key."""
        [found] = await self._sales([return_ref]) or [None]
        if found is None:
            sale = await self._sale(reference)
            [full] = await self._client.model(
                "sale.sale", "read", [sale["id"]],
                ["party", "invoice_address", "shipment_address", "currency", "warehouse"],
            )  # fmt: skip
            sold = await self._client.search_read(
                "sale.line", [["sale", "=", sale["id"]], ["type", "=", "line"]],
                ["product.code", "product", "unit", "unit_price"],
            )  # fmt: skip
            by_sku = {ln["product."]["code"]: ln for ln in sold}
            missing = [sku for sku, _ in lines if sku not in by_sku]
            if missing:
                raise TrytonUserError("UnknownLine", f"{reference} has no line for {', '.join(missing)}")
            values = {
                key: full[key]
                for key in ("party", "invoice_address", "shipment_address", "currency", "warehouse")
            }
            values.update(
                reference=return_ref,
                invoice_method="manual",
                lines=[["create", [
                    {"type": "line", "product": by_sku[sku]["product"], "quantity": -quantity,
                     "unit": by_sku[sku]["unit"], "unit_price": by_sku[sku]["unit_price"]}
                    for sku, quantity in lines
                ]]],
            )  # fmt: skip
            [sale_id] = await self._client.model("sale.sale", "create", [values])
            found = {"id": sale_id, "state": "draft"}
        if found["state"] == "draft":
            await self._client.model("sale.sale", "quote", [found["id"]])
            found["state"] = "quotation"
        if found["state"] == "quotation":
            await self._client.model("sale.sale", "confirm", [found["id"]])
        return return_ref

    async def _sale(self, reference: str) -> dict[str, Any]:
        [sale] = await self._sales([reference]) or [None]
        if sale is None:  # its push is still on its way (or failed): try again later
            raise TrytonUnavailable(f"Tryton has no sale {reference} yet")
        return sale

    async def _shipment_ids(self, sale_id: int) -> list[int]:
        [row] = await self._client.model("sale.sale", "read", [sale_id], ["shipments"])
        return list(row.get("shipments") or [])

    async def _sales(self, references: list[str]) -> list[dict[str, Any]]:
        return await self._client.search_read(
            "sale.sale",
            [["reference", "in", references]],
            ["reference", "state", "number", "shipment_state"],
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
    state = _STATES.get(sale["state"], OrderState.PENDING)
    if state is OrderState.PROCESSING and sale.get("shipment_state") == "sent":
        state = OrderState.FULFILLED  # shipped in Tryton; the sale is done once invoiced
    return PushedOrder(
        reference=sale["reference"],
        external_id=str(sale.get("number") or sale["id"]),
        state=state,
        created=created,
    )
