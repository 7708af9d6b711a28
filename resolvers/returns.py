"""Returns from any channel at any location: an online order brought back to a store.

The goods come back first (restocked where they were brought, in one transaction with the
return record); then the refund goes through the payment the order was paid with. A refund
that fails leaves the return recorded with refund status FAILED for staff to settle, because
the goods are back either way. An exchange hands out another size or colour of the same
product instead of money.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from adapters.commerce import OrderRecord, RefundStatus, ReturnRecord
from adapters.ports.orders import ReturnDraft, ReturnLineDraft
from adapters.ports.refused import Refused
from resolvers import lifecycle, loyalty
from resolvers.errors import BadUserInput
from resolvers.events import ReturnCreated
from resolvers.inventory import stock_moved
from resolvers.orders import UNPAID_MODES, forget_order, fulfillments_of, order
from resolvers.refunds import refund
from resolvers.user_errors import UserError

if TYPE_CHECKING:
    from resolvers.context import ResolverContext

MAX_RETURN_LINES = 250


@dataclass(frozen=True, slots=True)
class ReturnLineInput:
    order_line_id: int
    quantity: int
    exchange_variant_id: int | None = None


@dataclass(frozen=True, slots=True)
class ReturnResult:
    record: ReturnRecord | None
    order: OrderRecord | None
    user_errors: list[UserError]


async def create_return(
    ctx: ResolverContext,
    order_id: int,
    location_id: int,
    lines: list[ReturnLineInput],
    reason: str | None,
) -> ReturnResult:
    if len(lines) > MAX_RETURN_LINES:
        raise BadUserInput(f"at most {MAX_RETURN_LINES} lines", field="lines")
    found = await order(ctx, order_id)
    if found is None:
        return ReturnResult(None, None, [UserError(["input", "orderId"], "no such order", "ORDER_NOT_FOUND")])
    errors: list[UserError] = []
    if not lines:
        errors.append(UserError(["input", "lines"], "return at least one line", "INVALID"))
    if reason is not None and len(reason) > 500:
        errors.append(UserError(["input", "reason"], "at most 500 characters", "INVALID"))
    if await ctx.loaders.location_by_id.load(location_id) is None:
        errors.append(UserError(["input", "locationId"], "no location has this id", "LOCATION_NOT_FOUND"))
    order_lines = {ln.id: ln for ln in await ctx.loaders.order_lines_by_order_id.load(found.id)}
    unpaid = {f.id for f in await fulfillments_of(ctx, found.id) if f.mode in UNPAID_MODES}
    paid_minor = till_minor = 0
    for index, wanted in enumerate(lines):
        at = ["input", "lines", str(index)]
        line = order_lines.get(wanted.order_line_id)
        if not 1 <= wanted.quantity <= ctx.policy.max_line_quantity:
            errors.append(UserError([*at, "quantity"], "the quantity must be at least 1", "INVALID"))
        if line is None:
            errors.append(
                UserError([*at, "orderLineId"], "the order has no such line", "ORDER_LINE_NOT_FOUND")
            )
            continue
        if wanted.exchange_variant_id is not None:
            exchange = await ctx.loaders.variant_by_id.load(wanted.exchange_variant_id)
            bought = await ctx.loaders.variant_by_id.load(line.variant_id)
            if exchange is None:
                errors.append(
                    UserError(
                        [*at, "exchangeVariantId"],
                        "no product variant has this id",
                        "VARIANT_NOT_FOUND",
                    )
                )
            elif bought is None or exchange.product_id != bought.product_id:
                errors.append(UserError(
                    [*at, "exchangeVariantId"],
                    "an exchange is for another size or colour of the same product",
                    "EXCHANGE_NOT_ALLOWED",
                ))  # fmt: skip
            continue
        if line.fulfillment_id in unpaid:
            till_minor += wanted.quantity * line.unit_price_minor
        else:
            paid_minor += wanted.quantity * line.unit_price_minor
    if errors:
        return ReturnResult(None, found, errors)
    draft = ReturnDraft(
        order_id=found.id,
        location_id=location_id,
        lines=tuple(ReturnLineDraft(w.order_line_id, w.quantity, w.exchange_variant_id) for w in lines),
        reason=reason,
        refund_minor=paid_minor + till_minor,
        returnable=lifecycle.HANDED_OVER,
    )
    try:
        returned = await ctx.upstreams.orders.create_return(draft, ctx.principal.subject, ctx.now())
    except Refused as refused:
        field = ["input", "lines"] if refused.index is None else ["input", "lines", str(refused.index)]
        return ReturnResult(None, found, [UserError(field, refused.message, refused.code)])
    await stock_moved(ctx, returned.levels, "RETURN_RESTOCK")
    record = returned.record
    if draft.refund_minor:
        status = RefundStatus.REFUNDED
        if paid_minor:
            status = await refund(ctx, found, paid_minor, f"return:{record.id}", record.id)
        elif till_minor:
            await ctx.upstreams.orders.record_refund(None, record.id, till_minor, status)
        record = replace(record, refund_status=status)
    await ctx.events.publish(
        ReturnCreated(
            found.id,
            record.id,
            location_id,
            found.member_id,
            record.refund_minor,
            record.created_at,
        )
    )
    forget_order(ctx, found)
    await loyalty.order_returned(ctx, found, record)
    return ReturnResult(record, found, [])
