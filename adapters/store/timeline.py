"""A member's history across channels, newest first, as one SQL listing: orders and till sales,
fulfillment moves and pickups, returns, open and abandoned carts, loyalty entries, sign-ins by
channel, and the messages of their support conversations. One UNION ALL, filtered and paged in
the database.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from adapters.commerce import CartStatus, OrderStatus
from adapters.ports.paging import KeysetPage
from adapters.store.tables import (
    UtcDateTime,
    cart_lines,
    carts,
    loyalty_entries,
    member_sign_ins,
    order_fulfillments,
    order_status_changes,
    orders,
    returns,
    support_messages,
    support_tickets,
)
from adapters.store.tables import locations as location_table
from adapters.support import TimelineEntry, TimelineKind

if TYPE_CHECKING:
    from adapters.store.engine import Database


def _kind_when(condition: Any, then: TimelineKind, otherwise: TimelineKind) -> Any:
    return sa.case((condition, _text(then.value)), else_=_text(otherwise.value))


def _text(value: str) -> Any:
    return sa.literal(value, sa.String(32))


def _null_int() -> Any:
    return sa.cast(sa.null(), sa.Integer)


def _parts(member_id: str, abandoned_before: datetime) -> list[Any]:
    """(kind, at, ref, channel, location_id, detail, amount, parent) of each kind of event: the
    parent is the order of a fulfillment move or a return, the conversation of a message."""
    placed = orders.c.status != OrderStatus.PENDING_PAYMENT.value
    first_location = (
        sa.select(sa.func.min(order_fulfillments.c.location_id))
        .where(order_fulfillments.c.order_id == orders.c.id)
        .scalar_subquery()
    )
    till = orders.c.channel == "STORE"
    order_part = sa.select(
        sa.case((till, _text(TimelineKind.TILL_SALE.value)), else_=_text(TimelineKind.ORDER.value)).label(
            "kind"
        ),
        orders.c.created_at.label("at"),
        orders.c.id.label("ref"),
        orders.c.channel.label("channel"),
        first_location.label("location_id"),
        orders.c.status.label("detail"),
        orders.c.total_minor.label("amount"),
        _null_int().label("parent"),
    ).where(orders.c.member_id == member_id, placed)
    picked_up = order_status_changes.c.fulfillment_status == "PICKED_UP"
    fulfillment_part = (
        sa.select(
            sa.case(
                (picked_up, _text(TimelineKind.PICKUP.value)), else_=_text(TimelineKind.FULFILLMENT.value)
            ),
            order_status_changes.c.created_at,
            order_status_changes.c.id,
            orders.c.channel,
            order_fulfillments.c.location_id,
            order_status_changes.c.fulfillment_status,
            sa.cast(sa.null(), sa.BigInteger),
            orders.c.id,
        )
        .select_from(
            order_status_changes.join(orders, orders.c.id == order_status_changes.c.order_id).join(
                order_fulfillments, order_fulfillments.c.id == order_status_changes.c.fulfillment_id
            )
        )
        .where(orders.c.member_id == member_id, order_status_changes.c.fulfillment_id.is_not(None), placed)
    )
    return_part = (
        sa.select(
            _text(TimelineKind.RETURN.value),
            returns.c.created_at,
            returns.c.id,
            # A return's channel: at a store counter, or sent back the way the order came.
            sa.case((location_table.c.kind == "STORE", _text("STORE")), else_=orders.c.channel),
            returns.c.location_id,
            returns.c.refund_status,
            returns.c.refund_minor,
            returns.c.order_id,
        )
        .select_from(
            returns.join(orders, orders.c.id == returns.c.order_id).join(
                location_table, location_table.c.id == returns.c.location_id
            )
        )
        .where(orders.c.member_id == member_id)
    )
    live = carts.c.status.in_([CartStatus.OPEN.value, CartStatus.CHECKING_OUT.value])
    has_lines = sa.exists().where(cart_lines.c.cart_id == carts.c.id)
    abandoned = sa.and_(
        carts.c.status == CartStatus.OPEN.value, carts.c.updated_at < abandoned_before, has_lines
    )
    cart_part = sa.select(
        _kind_when(abandoned, TimelineKind.ABANDONED_CART, TimelineKind.CART),
        carts.c.updated_at,
        carts.c.id,
        carts.c.channel,
        carts.c.location_id,
        carts.c.status,
        sa.cast(sa.null(), sa.BigInteger),
        _null_int(),
    ).where(carts.c.member_id == member_id, live)
    loyalty_part = sa.select(
        _text(TimelineKind.LOYALTY.value),
        loyalty_entries.c.created_at,
        loyalty_entries.c.id,
        sa.cast(sa.null(), sa.String(16)),
        _null_int(),
        loyalty_entries.c.kind,
        sa.cast(loyalty_entries.c.points, sa.BigInteger),
        loyalty_entries.c.order_id,
    ).where(loyalty_entries.c.member_id == member_id)
    ticket_part = (
        sa.select(
            _text(TimelineKind.TICKET.value),
            support_messages.c.created_at,
            support_messages.c.id,
            support_messages.c.channel,
            _null_int(),
            support_tickets.c.subject,
            sa.cast(sa.null(), sa.BigInteger),
            support_tickets.c.id,
        )
        .select_from(
            support_messages.join(support_tickets, support_tickets.c.id == support_messages.c.ticket_id)
        )
        .where(support_tickets.c.member_id == member_id)
    )
    sign_in_part = sa.select(
        _text(TimelineKind.SIGN_IN.value),
        member_sign_ins.c.at,
        member_sign_ins.c.id,
        member_sign_ins.c.channel,
        _null_int(),
        sa.cast(sa.null(), sa.String(16)),
        sa.cast(sa.null(), sa.BigInteger),
        _null_int(),
    ).where(member_sign_ins.c.member_id == member_id)
    return [order_part, fulfillment_part, return_part, cart_part, loyalty_part, ticket_part, sign_in_part]


def _entry(row: Any) -> TimelineEntry:
    return TimelineEntry(
        kind=TimelineKind(row.kind),
        at=row.at,
        ref=row.ref,
        channel=row.channel,
        location_id=row.location_id,
        detail=row.detail,
        amount=None if row.amount is None else int(row.amount),
        parent=row.parent,
    )


class StoreTimeline:
    def __init__(self, store: Database) -> None:
        self._store = store

    async def entry_page(
        self,
        member_id: str,
        page: KeysetPage,
        *,
        kinds: Collection[TimelineKind] | None,
        channels: Collection[str] | None,
        abandoned_before: datetime,
    ) -> list[TimelineEntry]:
        """Entries by (at, kind, ref); a position is `((at, kind), ref)`."""
        union = sa.union_all(*_parts(member_id, abandoned_before)).subquery("timeline")
        key = sa.tuple_(union.c.at, union.c.kind, union.c.ref)

        def position(bound: tuple[Any, int]) -> Any:
            (at, kind), ref = bound
            return sa.tuple_(sa.literal(at, UtcDateTime), sa.literal(kind, sa.String(32)), sa.literal(ref))

        stmt = sa.select(union)
        if kinds is not None:
            stmt = stmt.where(union.c.kind.in_(sorted(k.value for k in kinds)))
        if channels is not None:
            stmt = stmt.where(union.c.channel.in_(sorted(channels)))
        if page.after is not None:
            stmt = stmt.where(key > position(page.after))
        if page.before is not None:
            stmt = stmt.where(key < position(page.before))
        if page.descending:
            stmt = stmt.order_by(union.c.at.desc(), union.c.kind.desc(), union.c.ref.desc())
        else:
            stmt = stmt.order_by(union.c.at, union.c.kind, union.c.ref)
        async with self._store.reading() as conn:
            return [_entry(row) for row in await conn.execute(stmt.limit(page.limit))]
