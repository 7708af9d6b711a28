"""Orders in the gateway's database: reads (batch-shaped), the checkout, lifecycle
transitions, returns and refunds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from adapters.commerce import (
    CheckoutAttempt,
    FulfillmentMode,
    FulfillmentRecord,
    FulfillmentStatus,
    OrderLineRecord,
    OrderRecord,
    OrderStatus,
    PaymentMethod,
    PaymentRecord,
    PaymentStatus,
    RefundStatus,
    ReturnLineRecord,
    ReturnRecord,
    StatusChangeRecord,
    StockEffect,
    TillPayment,
)
from adapters.ports.orders import (
    FulfillmentChange,
    OrderDraft,
    OrderStatusRule,
    PaymentDraft,
    Placed,
    ReturnDraft,
    Returned,
    Transitioned,
)
from adapters.ports.paging import KeysetPage
from adapters.ports.refused import Refused
from adapters.records import InventoryLevelRecord, OrderState
from adapters.store import checkout, checkout_attempts, checkout_outcome, stock_moves
from adapters.store import returns as returns_
from adapters.store.erp_messages import enqueue_fulfillment_changes, enqueue_return
from adapters.store.order_rows import (
    apply_effect,
    fulfillment_from_row,
    line_from_row,
    lock_order,
    order_from_row,
    payment_from_row,
    return_from_row,
    return_line_from_row,
    settle_order_status,
    status_change_from_row,
)
from adapters.store.tables import (
    order_fulfillments,
    order_lines,
    order_status_changes,
    orders,
    payments,
    return_lines,
    returns,
)

if TYPE_CHECKING:
    from adapters.store.engine import Database


class StoreOrders:
    def __init__(self, store: Database) -> None:
        self._store = store

    async def _rows(self, stmt: Any) -> list[Any]:
        async with self._store.reading() as conn:
            return list(await conn.execute(stmt))

    # -- reads ---------------------------------------------------------------------------------

    async def orders_by_ids(self, ids: Sequence[int]) -> list[OrderRecord]:
        rows = await self._rows(sa.select(orders).where(orders.c.id.in_(ids)))
        return [order_from_row(r) for r in rows]

    async def orders_by_cart_ids(self, cart_ids: Sequence[int]) -> list[OrderRecord]:
        stmt = (
            sa.select(orders)
            .where(orders.c.cart_id.in_(cart_ids))
            .where(orders.c.status != OrderStatus.PENDING_PAYMENT.value)
        )
        return [order_from_row(r) for r in await self._rows(stmt)]

    async def order_page_of_member(self, member_id: str, page: KeysetPage) -> list[OrderRecord]:
        stmt = (
            sa.select(orders)
            .where(orders.c.member_id == member_id)
            .where(orders.c.status != OrderStatus.PENDING_PAYMENT.value)
        )
        if page.after is not None:
            stmt = stmt.where(orders.c.id > page.after[1])
        if page.before is not None:
            stmt = stmt.where(orders.c.id < page.before[1])
        order = orders.c.id.desc() if page.descending else orders.c.id
        return [order_from_row(r) for r in await self._rows(stmt.order_by(order).limit(page.limit))]

    async def order_page_at_location(
        self, location_id: int, statuses: Sequence[str] | None, page: KeysetPage
    ) -> list[OrderRecord]:
        fulfilled = order_fulfillments.c
        there = sa.select(fulfilled.order_id).where(fulfilled.location_id == location_id)
        if statuses is not None:
            there = there.where(fulfilled.status.in_(list(statuses)))
        stmt = (
            sa.select(orders)
            .where(orders.c.id.in_(there))
            .where(orders.c.status != OrderStatus.PENDING_PAYMENT.value)
        )
        if page.after is not None:
            stmt = stmt.where(orders.c.id > page.after[1])
        if page.before is not None:
            stmt = stmt.where(orders.c.id < page.before[1])
        order = orders.c.id.desc() if page.descending else orders.c.id
        return [order_from_row(r) for r in await self._rows(stmt.order_by(order).limit(page.limit))]

    async def fulfillments_by_order_ids(self, order_ids: Sequence[int]) -> list[FulfillmentRecord]:
        stmt = (
            sa.select(order_fulfillments)
            .where(order_fulfillments.c.order_id.in_(order_ids))
            .order_by(order_fulfillments.c.id)
        )
        return [fulfillment_from_row(r) for r in await self._rows(stmt)]

    async def fulfillments_by_ids(self, ids: Sequence[int]) -> list[FulfillmentRecord]:
        stmt = sa.select(order_fulfillments).where(order_fulfillments.c.id.in_(ids))
        return [fulfillment_from_row(r) for r in await self._rows(stmt)]

    async def lines_by_order_ids(self, order_ids: Sequence[int]) -> list[OrderLineRecord]:
        stmt = (
            sa.select(order_lines, orders.c.currency_code)
            .join(orders, orders.c.id == order_lines.c.order_id)
            .where(order_lines.c.order_id.in_(order_ids))
            .order_by(order_lines.c.order_id, order_lines.c.position)
        )
        return [line_from_row(r) for r in await self._rows(stmt)]

    async def status_changes_by_order_ids(self, order_ids: Sequence[int]) -> list[StatusChangeRecord]:
        stmt = (
            sa.select(order_status_changes)
            .where(order_status_changes.c.order_id.in_(order_ids))
            .order_by(order_status_changes.c.id)
        )
        return [status_change_from_row(r) for r in await self._rows(stmt)]

    async def payments_by_order_ids(self, order_ids: Sequence[int]) -> list[PaymentRecord]:
        stmt = sa.select(payments).where(payments.c.order_id.in_(order_ids)).order_by(payments.c.id)
        return [payment_from_row(r) for r in await self._rows(stmt)]

    async def returns_by_order_ids(self, order_ids: Sequence[int]) -> list[ReturnRecord]:
        stmt = (
            sa.select(returns, orders.c.currency_code)
            .join(orders, orders.c.id == returns.c.order_id)
            .where(returns.c.order_id.in_(order_ids))
            .order_by(returns.c.id)
        )
        return [return_from_row(r) for r in await self._rows(stmt)]

    async def return_lines_by_return_ids(self, return_ids: Sequence[int]) -> list[ReturnLineRecord]:
        stmt = (
            sa.select(return_lines, returns.c.order_id)
            .join(returns, returns.c.id == return_lines.c.return_id)
            .where(return_lines.c.return_id.in_(return_ids))
            .order_by(return_lines.c.id)
        )
        return [return_line_from_row(r) for r in await self._rows(stmt)]

    # -- the ERP's side -------------------------------------------------------------------------

    async def orders_awaiting_erp(self, limit: int, after: int = 0) -> list[OrderRecord]:
        """Orders the ERP has and has not finished (shipped or cancelled), oldest first, from
        after the order id `after`."""
        final = [OrderState.FULFILLED.value, OrderState.CANCELLED.value]
        stmt = (
            sa.select(orders)
            .where(orders.c.erp_reference.is_not(None), orders.c.id > after)
            .where(sa.or_(orders.c.erp_state.is_(None), orders.c.erp_state.not_in(final)))
            .order_by(orders.c.id)
            .limit(limit)
        )
        return [order_from_row(r) for r in await self._rows(stmt)]

    async def record_erp_state(self, order_id: int, erp_reference: str, state: OrderState) -> bool:
        """What the ERP says of an order it has; True when that changed."""
        async with self._store.writing() as conn:
            result = await conn.execute(
                sa.update(orders)
                .where(orders.c.id == order_id)
                .where(
                    sa.or_(
                        orders.c.erp_state.is_(None),
                        orders.c.erp_state != state.value,
                        orders.c.erp_reference.is_(None),
                    )
                )
                .values(erp_reference=erp_reference, erp_state=state.value)
            )
            return bool(result.rowcount)

    # -- checkout ------------------------------------------------------------------------------

    async def find_attempt(self, scope: str, key: str) -> CheckoutAttempt | None:
        async with self._store.reading() as conn:
            return await checkout_attempts.find_attempt(conn, scope, key)

    async def place_order(self, draft: OrderDraft, now: datetime) -> Placed:
        return await self._store.write(lambda conn: checkout.place(conn, draft, now))

    async def confirm_order(
        self,
        order_id: int,
        payments: Sequence[PaymentDraft],
        initial: dict[FulfillmentMode, tuple[FulfillmentStatus, StockEffect]],
        status_rule: OrderStatusRule,
        actor: str,
        now: datetime,
        *,
        push_to_erp: bool = False,
    ) -> Placed:
        return await self._store.write(
            lambda conn: checkout_outcome.confirm(
                conn, order_id, payments, initial, status_rule, actor, now, push_to_erp=push_to_erp
            )
        )

    async def abandon_order(
        self,
        order_id: int,
        error_code: str,
        error_message: str,
        hold_until: datetime,
        now: datetime,
    ) -> list[InventoryLevelRecord]:
        return await self._store.write(
            lambda conn: checkout_outcome.abandon(conn, order_id, error_code, error_message, hold_until, now)
        )

    async def forget_attempt(self, scope: str, key: str) -> None:
        await self._store.write(lambda conn: checkout_attempts.forget_attempt(conn, scope, key))

    async def claim_checkout(self, order_id: int, owner: str, until: datetime, now: datetime) -> bool:
        return await self._store.write(lambda conn: checkout_outcome.claim(conn, order_id, owner, until, now))

    async def stale_checkouts(self, older_than: datetime) -> list[OrderRecord]:
        async with self._store.reading() as conn:
            return await checkout_outcome.stale_checkouts(conn, older_than)

    async def delete_attempts(self, older_than: datetime) -> int:
        return await self._store.write(lambda conn: checkout_attempts.delete_attempts(conn, older_than))

    # -- lifecycle -----------------------------------------------------------------------------

    async def transition(
        self,
        order_id: int,
        changes: Sequence[FulfillmentChange],
        status_rule: OrderStatusRule,
        actor: str,
        reason: str | None,
        now: datetime,
        till: TillPayment | None = None,
        *,
        tell_erp: bool = True,
    ) -> Transitioned:
        async def work(conn: Any) -> Transitioned:
            order = await lock_order(conn, order_id)
            if order.status == OrderStatus.PENDING_PAYMENT.value:
                raise Refused("ORDER_NOT_FOUND", "no such order")
            current = {
                r.id: r
                for r in await conn.execute(
                    sa.select(order_fulfillments).where(order_fulfillments.c.order_id == order_id)
                )
            }
            statuses = {fid: FulfillmentStatus(r.status) for fid, r in current.items()}
            levels: list[InventoryLevelRecord] = []
            for change in changes:
                if change.fulfillment_id not in current:
                    raise Refused("FULFILLMENT_NOT_FOUND", "the order has no such fulfillment")
                if statuses[change.fulfillment_id] is not change.from_status:
                    raise Refused(
                        "INVALID_TRANSITION",
                        f"the fulfillment is {statuses[change.fulfillment_id].value} now",
                    )
                await conn.execute(
                    sa.update(order_fulfillments)
                    .where(order_fulfillments.c.id == change.fulfillment_id)
                    .values(status=change.to_status.value, updated_at=now)
                )
                statuses[change.fulfillment_id] = change.to_status
                levels += await apply_effect(conn, change.fulfillment_id, change.effect, order_id, actor, now)
                if till is not None or change.to_status is FulfillmentStatus.SOLD:
                    await settle_at_till(conn, order, current[change.fulfillment_id], change, till, now)
            status, row = await settle_order_status(conn, order_id, list(statuses.values()), status_rule, now)
            await conn.execute(
                sa.insert(order_status_changes),
                [
                    {"order_id": order_id, "status": status.value,
                     "fulfillment_id": c.fulfillment_id, "fulfillment_status": c.to_status.value,
                     "actor": actor, "reason": reason, "created_at": now}
                    for c in changes
                ],
            )  # fmt: skip
            if tell_erp:  # a change the ERP made itself is not sent back to it
                moved = [(c.fulfillment_id, c.to_status) for c in changes]
                await enqueue_fulfillment_changes(conn, order_id, moved)
            changed = list(
                await conn.execute(
                    sa.select(order_fulfillments).where(
                        order_fulfillments.c.id.in_([c.fulfillment_id for c in changes])
                    )
                )
            )
            return Transitioned(
                order=order_from_row(row),
                fulfillments=[fulfillment_from_row(r) for r in changed],
                levels=stock_moves.latest(levels),
                order_status_changed=status.value != order.status,
            )

        return await self._store.write(work)

    async def expired_holds(self, now: datetime) -> list[FulfillmentRecord]:
        stmt = (
            sa.select(order_fulfillments)
            .where(order_fulfillments.c.status == FulfillmentStatus.HELD.value)
            .where(order_fulfillments.c.hold_expires_at <= now)
            .order_by(order_fulfillments.c.id)
            .limit(100)
        )
        return [fulfillment_from_row(r) for r in await self._rows(stmt)]

    # -- returns -------------------------------------------------------------------------------

    async def create_return(self, draft: ReturnDraft, actor: str, now: datetime) -> Returned:
        async def work(conn: Any) -> Returned:
            returned = await returns_.create(conn, draft, actor, now)
            currency = await conn.scalar(
                sa.select(orders.c.currency_code).where(orders.c.id == draft.order_id)
            )
            await enqueue_return(conn, draft.order_id, returned.record.id, draft.refund_minor, currency)
            return returned

        return await self._store.write(work)

    async def record_refund(
        self,
        payment_id: int | None,
        return_id: int | None,
        amount_minor: int,
        status: RefundStatus,
    ) -> None:
        await self._store.write(
            lambda conn: returns_.record_refund(conn, payment_id, return_id, amount_minor, status)
        )


async def settle_at_till(
    conn: Any,
    order: Any,
    fulfillment: Any,
    change: FulfillmentChange,
    till: TillPayment | None,
    now: datetime,
) -> None:
    """The money taken in the store, in the transaction that hands the goods over: a pay-at-store
    payment is captured with its tender; a reserve-to-try-on hold sold at the till records what
    its lines cost as a captured payment of the order."""
    till = till or TillPayment()
    provider = f"till:{till.tender.value.lower()}"
    if change.to_status is FulfillmentStatus.SOLD and fulfillment.mode == FulfillmentMode.RESERVE.value:
        cost = sa.func.sum(order_lines.c.quantity * order_lines.c.unit_price_minor)
        amount = await conn.scalar(
            sa.select(sa.func.coalesce(cost, 0)).where(order_lines.c.fulfillment_id == fulfillment.id)
        )
        await conn.execute(
            sa.insert(payments).values(
                order_id=order.id, method=PaymentMethod.PAY_AT_STORE.value, provider=provider,
                reference=till.reference or f"till:fulfillment:{fulfillment.id}", amount_minor=int(amount),
                refunded_minor=0, currency_code=order.currency_code, status=PaymentStatus.CAPTURED.value,
                created_at=now,
            )
        )  # fmt: skip
        return
    await conn.execute(
        sa.update(payments)
        .where(payments.c.order_id == order.id)
        .where(payments.c.method == PaymentMethod.PAY_AT_STORE.value)
        .where(payments.c.status == PaymentStatus.PENDING.value)
        .values(status=PaymentStatus.CAPTURED.value, provider=provider, reference=till.reference)
    )
