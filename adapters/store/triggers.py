"""Behavioral triggers in the gateway's database: webhook endpoints, members' stock watches,
the occasions the triggers look for (idle carts, pickups ready, reserve holds running out,
watched stock back, spend by member for tiers), and firing an occasion once: its mark and its
webhooks (outbox messages, `WEBHOOK_TOPIC`) written in one transaction."""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from adapters.commerce import CartStatus, FulfillmentMode, FulfillmentStatus
from adapters.ports.marketing import WEBHOOK_TOPIC, Occasion, WebhookEndpointRecord
from adapters.store.outbox import enqueue
from adapters.store.tables import (
    cart_lines,
    carts,
    inventory_levels,
    loyalty_entries,
    order_fulfillments,
    orders,
    stock_watches,
    trigger_marks,
    webhook_endpoints,
)

if TYPE_CHECKING:
    from adapters.ports.paging import KeysetPage
    from adapters.store.engine import Database


def new_secret() -> str:
    """A Standard Webhooks signing secret: `whsec_` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _endpoint(row: Any) -> WebhookEndpointRecord:
    return WebhookEndpointRecord(row.id, row.url, row.secret, tuple(row.event_types), bool(row.active))


class StoreTriggers:
    def __init__(self, store: Database) -> None:
        self._store = store

    async def _rows(self, stmt: Any) -> list[Any]:
        async with self._store.reading() as conn:
            return list(await conn.execute(stmt))

    # -- endpoints ---------------------------------------------------------------------------

    async def endpoints_by_ids(self, ids: Sequence[int]) -> list[WebhookEndpointRecord]:
        rows = await self._rows(sa.select(webhook_endpoints).where(webhook_endpoints.c.id.in_(list(ids))))
        return [_endpoint(r) for r in rows]

    async def endpoint_page(self, page: KeysetPage) -> list[WebhookEndpointRecord]:
        stmt = sa.select(webhook_endpoints)
        if page.after is not None:
            stmt = stmt.where(webhook_endpoints.c.id > page.after[1])
        if page.before is not None:
            stmt = stmt.where(webhook_endpoints.c.id < page.before[1])
        order = webhook_endpoints.c.id.desc() if page.descending else webhook_endpoints.c.id
        return [_endpoint(r) for r in await self._rows(stmt.order_by(order).limit(page.limit))]

    async def save_endpoint(
        self, endpoint_id: int | None, url: str, event_types: Sequence[str], active: bool, now: datetime
    ) -> WebhookEndpointRecord | None:
        """Create (no id: a new secret) or change an endpoint; None: no such endpoint."""
        values = {"url": url, "event_types": list(event_types), "active": active, "updated_at": now}

        async def work(conn: Any) -> WebhookEndpointRecord | None:
            if endpoint_id is None:
                done = await conn.execute(
                    sa.insert(webhook_endpoints).values(**values, secret=new_secret(), created_at=now)
                )
                key = done.inserted_primary_key[0]
            else:
                done = await conn.execute(
                    sa.update(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id).values(**values)
                )
                if not done.rowcount:
                    return None
                key = endpoint_id
            row = (
                await conn.execute(sa.select(webhook_endpoints).where(webhook_endpoints.c.id == key))
            ).one()
            return _endpoint(row)

        return await self._store.write(work)

    async def delete_endpoint(self, endpoint_id: int) -> bool:
        async def work(conn: Any) -> bool:
            stmt = sa.delete(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id)
            return bool((await conn.execute(stmt)).rowcount)

        return await self._store.write(work)

    # -- stock watches -----------------------------------------------------------------------

    async def watch(self, member_key: str, variant_id: int, location_id: int, now: datetime) -> None:
        """Watch (again: a watch that fired is armed anew)."""

        async def work(conn: Any) -> None:
            found = (
                sa.select(stock_watches.c.id)
                .where(stock_watches.c.member_key == member_key, stock_watches.c.variant_id == variant_id)
                .where(stock_watches.c.location_id == location_id)
            )
            watch_id = await conn.scalar(found)
            if watch_id is None:
                await conn.execute(
                    sa.insert(stock_watches).values(
                        member_key=member_key, variant_id=variant_id, location_id=location_id, created_at=now
                    )
                )
            else:
                update = sa.update(stock_watches).where(stock_watches.c.id == watch_id)
                await conn.execute(update.values(notified_at=None, created_at=now))

        await self._store.write(work)

    async def unwatch(self, member_key: str, variant_id: int, location_id: int) -> bool:
        async def work(conn: Any) -> bool:
            stmt = (
                sa.delete(stock_watches)
                .where(stock_watches.c.member_key == member_key, stock_watches.c.variant_id == variant_id)
                .where(stock_watches.c.location_id == location_id)
            )
            return bool((await conn.execute(stmt)).rowcount)

        return await self._store.write(work)

    async def watches_of(self, member_key: str) -> list[tuple[int, int, datetime, datetime | None]]:
        """(variant, location, since, when it fired) of the member's watches, oldest first."""
        stmt = (
            sa.select(stock_watches)
            .where(stock_watches.c.member_key == member_key)
            .order_by(stock_watches.c.id)
        )
        return [(r.variant_id, r.location_id, r.created_at, r.notified_at) for r in await self._rows(stmt)]

    # -- occasions ----------------------------------------------------------------------------

    async def idle_carts(self, idle_since: datetime, now: datetime) -> list[Occasion]:
        """Open, unexpired members' carts with lines, untouched since `idle_since`."""
        stmt = (
            sa.select(carts, cart_lines.c.variant_id, cart_lines.c.quantity)
            .join(cart_lines, cart_lines.c.cart_id == carts.c.id)
            .where(carts.c.status == CartStatus.OPEN.value, carts.c.member_id.is_not(None))
            .where(carts.c.updated_at <= idle_since, carts.c.expires_at > now)
            .order_by(carts.c.id, cart_lines.c.id)
        )
        found: dict[int, Occasion] = {}
        for row in await self._rows(stmt):
            if row.id not in found:
                data = {
                    "cartId": row.id, "memberKey": row.member_id, "channel": row.channel,
                    "currencyCode": row.currency_code, "updatedAt": row.updated_at.isoformat(), "lines": [],
                }  # fmt: skip
                key = f"cart.abandoned:{row.id}:{row.updated_at.isoformat()}"
                found[row.id] = Occasion(key, "cart.abandoned", data, row.member_id)
            found[row.id].data["lines"].append({"variantId": row.variant_id, "quantity": row.quantity})
        return list(found.values())

    async def _fulfillments(self, *where: Any) -> list[Any]:
        stmt = (
            sa.select(order_fulfillments, orders.c.member_id)
            .join(orders, orders.c.id == order_fulfillments.c.order_id)
            .where(*where)
            .order_by(order_fulfillments.c.id)
        )
        return await self._rows(stmt)

    async def pickups_ready(self) -> list[Occasion]:
        rows = await self._fulfillments(
            order_fulfillments.c.status == FulfillmentStatus.READY_FOR_PICKUP.value,
            order_fulfillments.c.mode == FulfillmentMode.PICKUP.value,
        )
        return [
            Occasion(
                f"pickup.ready:{r.id}",
                "pickup.ready",
                {
                    "orderId": r.order_id,
                    "fulfillmentId": r.id,
                    "locationId": r.location_id,
                    "memberKey": r.member_id,
                },
                r.member_id,
            )
            for r in rows
        ]

    async def reserve_holds_ending(self, now: datetime, until: datetime) -> list[Occasion]:
        rows = await self._fulfillments(
            order_fulfillments.c.status == FulfillmentStatus.HELD.value,
            order_fulfillments.c.hold_expires_at > now,
            order_fulfillments.c.hold_expires_at <= until,
        )
        return [
            Occasion(
                f"reserve.expiring:{r.id}:{r.hold_expires_at.isoformat()}",
                "reserve.expiring",
                {
                    "orderId": r.order_id,
                    "fulfillmentId": r.id,
                    "locationId": r.location_id,
                    "memberKey": r.member_id,
                    "holdExpiresAt": r.hold_expires_at.isoformat(),
                },
                r.member_id,
            )
            for r in rows
        ]

    async def watched_in_stock(self) -> list[Occasion]:
        available = inventory_levels.c.on_hand - inventory_levels.c.reserved
        stmt = (
            sa.select(stock_watches, available.label("available"))
            .join(
                inventory_levels,
                (inventory_levels.c.variant_id == stock_watches.c.variant_id)
                & (inventory_levels.c.location_id == stock_watches.c.location_id),
            )
            .where(stock_watches.c.notified_at.is_(None), available > 0)
            .order_by(stock_watches.c.id)
        )
        return [
            Occasion(
                f"back_in_stock:{r.id}:{r.created_at.isoformat()}",
                "stock.back_in_stock",
                {
                    "memberKey": r.member_key,
                    "variantId": r.variant_id,
                    "locationId": r.location_id,
                    "available": r.available,
                },
                r.member_key,
            )
            for r in await self._rows(stmt)
        ]

    async def spend_by_member(self, since: datetime) -> list[tuple[str, int]]:
        """(member, spend counted toward tiers since `since`) of every member with entries."""
        spend = sa.func.sum(
            sa.case((loyalty_entries.c.created_at >= since, loyalty_entries.c.spend_minor), else_=0)
        )
        stmt = sa.select(loyalty_entries.c.member_id, spend.label("spend")).group_by(
            loyalty_entries.c.member_id
        )
        return [(r.member_id, int(r.spend or 0)) for r in await self._rows(stmt)]

    async def marks(self, keys: Sequence[str]) -> dict[str, str | None]:
        rows = await self._rows(sa.select(trigger_marks).where(trigger_marks.c.key.in_(list(keys))))
        return {r.key: r.value for r in rows}

    async def fire(
        self,
        occasion: Occasion | None,
        now: datetime,
        *,
        mark: tuple[str, str | None] | None = None,
        deliver: bool = True,
    ) -> int:
        """The occasion's webhooks queued for every active endpoint that takes its type, once:
        returns how many (0 when its key was already fired). `mark` (key, value) is written or
        replaced alongside (a member's last known tier); `deliver` False marks the occasion
        without sending it."""

        async def work(conn: Any) -> int:
            if mark is not None:
                await conn.execute(sa.delete(trigger_marks).where(trigger_marks.c.key == mark[0]))
                await conn.execute(
                    sa.insert(trigger_marks).values(key=mark[0], value=mark[1], created_at=now)
                )
            if occasion is None:
                return 0
            if await conn.scalar(sa.select(trigger_marks.c.key).where(trigger_marks.c.key == occasion.key)):
                return 0
            await conn.execute(sa.insert(trigger_marks).values(key=occasion.key, created_at=now))
            if occasion.event_type == "stock.back_in_stock":
                watch = int(occasion.key.split(":")[1])
                await conn.execute(
                    sa.update(stock_watches).where(stock_watches.c.id == watch).values(notified_at=now)
                )
            if not deliver:  # e.g. a member without marketing consent: the occasion passes unsent
                return 0
            endpoints = await conn.execute(
                sa.select(webhook_endpoints).where(webhook_endpoints.c.active.is_(True))
            )
            queued = 0
            for endpoint in endpoints:
                if endpoint.event_types and occasion.event_type not in endpoint.event_types:
                    continue
                message = {
                    "endpointId": endpoint.id,
                    "id": f"msg_{uuid.uuid4().hex}",
                    "type": occasion.event_type,
                    "timestamp": now.isoformat(),
                    "data": occasion.data,
                }
                await enqueue(conn, WEBHOOK_TOPIC, message)
                queued += 1
            return queued

        return await self._store.write(work)

    async def endpoint_for_delivery(self, endpoint_id: int) -> WebhookEndpointRecord | None:
        found = await self.endpoints_by_ids([endpoint_id])
        return found[0] if found else None
