"""Orders pushed to API_SALES_ORDER_SRV as one deep insert of A_SalesOrder with to_Item; the
gateway's order number travels as PurchaseOrderByCustomer, the natural idempotency key, looked
up before anything is created."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.odata._client import ODataClient
from adapters.odata._config import ODataConfig
from adapters.odata._members import ODataMembers
from adapters.records import OrderPush, OrderState, PushedOrder

SALES = "API_SALES_ORDER_SRV"
# OverallSDProcessStatus: blank or A not yet processed, B partially, C completely.
_STATES = {"": OrderState.CONFIRMED, "A": OrderState.CONFIRMED, "B": OrderState.PROCESSING,
           "C": OrderState.FULFILLED}  # fmt: skip
_FIELDS = ["SalesOrder", "PurchaseOrderByCustomer", "OverallSDProcessStatus"]


class ODataOrders:
    def __init__(self, client: ODataClient, members: ODataMembers, config: ODataConfig) -> None:
        self._client = client
        self._members = members
        self._config = config
        self._plant_of = {code: plant for plant, code in config.plant_codes().items()}

    async def push_order(self, order: OrderPush) -> PushedOrder:
        [found] = await self._orders([order.reference]) or [None]
        if found is not None:
            return _pushed(found, created=False)
        customer = await self._members.upsert_member(order.customer)
        plant = self._plant_of.get(order.location_code or "", order.location_code or "")
        c = self._config
        created = await self._client.create(
            SALES,
            "A_SalesOrder",
            {
                "SalesOrderType": c.sales_order_type,
                "SalesOrganization": c.sales_organization,
                "DistributionChannel": c.distribution_channel,
                "OrganizationDivision": c.division,
                "SoldToParty": customer.key,
                "PurchaseOrderByCustomer": order.reference,
                "TransactionCurrency": order.currency_code,
                "to_Item": [
                    {
                        "SalesOrderItem": str(10 * n),
                        "Material": line.sku,
                        "RequestedQuantity": str(line.quantity),
                        "RequestedQuantityUnit": "EA",
                        "NetAmount": str(line.unit_price.amount * line.quantity),
                        "TransactionCurrency": order.currency_code,
                        "ProductionPlant": plant,
                    }
                    for n, line in enumerate(order.lines, start=1)
                ],
            },
        )
        return _pushed(created, created=True)

    async def order_states(self, references: Sequence[str]) -> list[PushedOrder]:
        return [_pushed(row, created=False) for row in await self._orders(list(references))]

    async def _orders(self, references: list[str]) -> list[dict[str, Any]]:
        return await self._client.get_by_keys(
            SALES, "A_SalesOrder", "PurchaseOrderByCustomer", references, select=_FIELDS
        )


def _pushed(row: dict[str, Any], *, created: bool) -> PushedOrder:
    return PushedOrder(
        reference=row["PurchaseOrderByCustomer"],
        external_id=row["SalesOrder"],
        state=_STATES.get(row.get("OverallSDProcessStatus") or "", OrderState.PENDING),
        created=created,
    )
