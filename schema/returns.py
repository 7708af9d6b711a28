"""Returns: goods of any order brought back to any location, refunded or exchanged."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from adapters.commerce import ReturnLineRecord, ReturnRecord
from adapters.records import Money as MoneyRecord
from resolvers import catalog, locations, orders, returns
from resolvers.returns import ReturnResult
from schema.common import DateTime, Money, UserError
from schema.ids import decode_id, to_global_id
from schema.locations import Location
from schema.permissions import WorksAtInputLocation

if TYPE_CHECKING:
    from schema.catalog import ProductVariant
    from schema.orders import Order, OrderLine, RefundStatus

ProductVariantRef = Annotated["ProductVariant", strawberry.lazy("schema.catalog")]
OrderRef = Annotated["Order", strawberry.lazy("schema.orders")]
OrderLineRef = Annotated["OrderLine", strawberry.lazy("schema.orders")]
RefundStatusRef = Annotated["RefundStatus", strawberry.lazy("schema.orders")]


@strawberry.type
class ReturnLine:
    quantity: int

    @strawberry.field
    async def order_line(root: ReturnLineRecord, info: Info) -> OrderLineRef:
        lines = await orders.lines_of(info.context, root.order_id)
        return next(ln for ln in lines if ln.id == root.order_line_id)  # type: ignore[return-value]

    @strawberry.field(description="What the customer took instead of a refund, if anything.")
    async def exchange_variant(root: ReturnLineRecord, info: Info) -> ProductVariantRef | None:
        if root.exchange_variant_id is None:
            return None
        return await catalog.variant(info.context, root.exchange_variant_id)  # type: ignore[return-value]


@strawberry.type(description="Goods brought back to a location, refunded or exchanged.")
class Return:
    reason: str | None
    refund_status: RefundStatusRef
    created_at: DateTime

    @strawberry.field
    def id(root: ReturnRecord) -> strawberry.ID:
        return strawberry.ID(to_global_id("Return", root.id))

    @strawberry.field
    async def location(root: ReturnRecord, info: Info) -> Location:
        return await locations.location(info.context, root.location_id)  # type: ignore[return-value]

    @strawberry.field
    async def lines(root: ReturnRecord, info: Info) -> list[ReturnLine]:
        return await info.context.loaders.return_lines_by_return_id.load(root.id)  # type: ignore[return-value]

    @strawberry.field
    def refund(root: ReturnRecord, info: Info) -> Money:
        return MoneyRecord.from_minor(root.refund_minor, root.currency_code)  # type: ignore[return-value]


@strawberry.input
class ReturnLineInput:
    order_line_id: strawberry.ID
    quantity: int = 1
    exchange_variant_id: strawberry.ID | None = strawberry.field(
        default=None, description="Another size or colour of the same product instead of money."
    )


@strawberry.input(description="Goods of any order brought back to any location.")
class ReturnInput:
    order_id: strawberry.ID
    location_id: strawberry.ID
    lines: list[ReturnLineInput]
    reason: str | None = None


@strawberry.type
class ReturnCreatePayload:
    return_: Return | None = strawberry.field(name="return")
    order: OrderRef | None
    user_errors: list[UserError]


@strawberry.type
class ReturnMutation:
    @strawberry.mutation(
        description="Take back lines of any order at this location: restock, refund or exchange.",
        permission_classes=[WorksAtInputLocation],
    )
    async def return_create(self, info: Info, input: ReturnInput) -> ReturnCreatePayload:
        lines = [
            returns.ReturnLineInput(
                decode_id(ln.order_line_id, "OrderLine", "orderLineId"),
                ln.quantity,
                None
                if ln.exchange_variant_id is None
                else decode_id(ln.exchange_variant_id, "ProductVariant", "exchangeVariantId"),
            )
            for ln in input.lines
        ]
        result: ReturnResult = await returns.create_return(
            info.context,
            decode_id(input.order_id, "Order", "orderId"),
            decode_id(input.location_id, "Location", "locationId"),
            lines,
            input.reason,
        )
        return ReturnCreatePayload(
            return_=result.record,  # type: ignore[arg-type]
            order=result.order,  # type: ignore[arg-type]
            user_errors=result.user_errors,  # type: ignore[arg-type]
        )
