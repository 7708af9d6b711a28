"""Carts in the gateway's database: read, created, changed, merged into a member's cart, expired.

A line at a store may hold stock there while the customer shops; how a change to the lines moves
those holds is adapters/store/cart_holds.py's.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from adapters.commerce import CartLineRecord, CartRecord, CartStatus, Channel, FulfillmentMode
from adapters.ports.carts import CartChange, CartLineOp, CartMerge, HoldPolicy
from adapters.ports.refused import Refused
from adapters.records import InventoryLevelRecord
from adapters.store import stock_moves
from adapters.store.cart_holds import apply_line_ops
from adapters.store.tables import cart_lines, carts, keys_in_range, reservations

if TYPE_CHECKING:
    from adapters.store.engine import Database

TOKEN_BYTES = 32  # 256 random bits: the token is the only thing standing between carts


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def cart_from_row(row: Any, token: str | None = None) -> CartRecord:
    """`token`: the one the caller holds; else the stored one (a member's cart), else ""."""
    return CartRecord(
        id=row.id,
        token=token or row.token or "",
        channel=Channel(row.channel),
        member_id=row.member_id,
        currency_code=row.currency_code,
        status=CartStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
        expires_at=row.expires_at,
        location_id=row.location_id,
        merged_into_id=row.merged_into_id,
    )


def _refuse_closed(found: Any, now: datetime) -> None:
    """Refuse changes to a cart that is gone, checked out or merged into another."""
    if found is None or found.expires_at <= now:
        raise Refused("CART_NOT_FOUND", "no open cart has this id")
    if found.status == CartStatus.MERGED.value:
        raise Refused("CART_MERGED", "this cart was merged into another: use Cart.mergedInto")
    if found.status != CartStatus.OPEN.value:
        raise Refused("CART_COMPLETED", "this cart has been checked out")


def _lines_with_holds() -> sa.Select[Any]:
    hold = reservations.c
    holds = (
        sa.select(
            hold.cart_line_id,
            sa.func.sum(hold.quantity).label("held"),
            sa.func.min(hold.expires_at).label("held_until"),
        )
        .where(hold.cart_line_id.is_not(None), hold.order_line_id.is_(None))
        .group_by(hold.cart_line_id)
        .subquery()
    )
    return (
        sa.select(cart_lines, holds.c.held, holds.c.held_until)
        .outerjoin(holds, holds.c.cart_line_id == cart_lines.c.id)
        .where(cart_lines.c.cart_id.in_(sa.bindparam("cart_ids", expanding=True)))
        .order_by(cart_lines.c.cart_id, cart_lines.c.id)
    )


# Every cart read sends these two: built once, so a read costs no statement building and no
# cache-key walk (SQLAlchemy memoizes it on the statement object).
_CARTS_BY_HASHES = sa.select(carts).where(carts.c.token_hash.in_(sa.bindparam("hashes", expanding=True)))
_LINES_BY_CART_IDS = _lines_with_holds()


class StoreCarts:
    def __init__(self, store: Database) -> None:
        self._store = store

    async def carts_by_tokens(self, tokens: Sequence[str]) -> list[CartRecord]:
        by_hash = {token_hash(t): t for t in tokens}
        async with self._store.reading() as conn:
            rows = await conn.execute(_CARTS_BY_HASHES, {"hashes": list(by_hash)})
            return [cart_from_row(r, by_hash[r.token_hash]) for r in rows]

    async def lines_by_cart_ids(self, cart_ids: Sequence[int]) -> list[CartLineRecord]:
        stmt, params = _LINES_BY_CART_IDS, {"cart_ids": list(cart_ids)}
        async with self._store.reading() as conn:
            return [
                CartLineRecord(
                    id=r.id,
                    cart_id=r.cart_id,
                    variant_id=r.variant_id,
                    quantity=r.quantity,
                    mode=FulfillmentMode(r.mode),
                    location_id=r.location_id,
                    held=r.held or 0,
                    held_until=_utc(r.held_until),  # an aggregate: no column type on SQLite
                    created_at=r.created_at,
                )
                for r in await conn.execute(stmt, params)
            ]

    async def carts_by_ids(self, ids: Sequence[int]) -> list[CartRecord]:
        """Carts by internal id: only those whose token is kept (members' carts)."""
        stmt = sa.select(carts).where(carts.c.id.in_(keys_in_range(ids)), carts.c.token.is_not(None))
        async with self._store.reading() as conn:
            return [cart_from_row(r) for r in await conn.execute(stmt)]

    async def carts_of_member(self, member_id: str, now: datetime) -> list[CartRecord]:
        """The member's open carts, most recently changed first."""
        stmt = (
            sa.select(carts)
            .where(carts.c.member_id == member_id, carts.c.status == CartStatus.OPEN.value)
            .where(carts.c.expires_at > now)
            .order_by(carts.c.updated_at.desc(), carts.c.id.desc())
        )
        async with self._store.reading() as conn:
            return [cart_from_row(r) for r in await conn.execute(stmt)]

    async def create_cart(
        self,
        channel: Channel,
        member_id: str | None,
        ops: Sequence[CartLineOp],
        holds: HoldPolicy,
        now: datetime,
        expires_at: datetime,
        max_lines: int,
        currency_code: str | None = None,
        location_id: int | None = None,
    ) -> CartChange:
        token = new_token()

        async def work(conn: Any) -> CartChange:
            row = (
                await conn.execute(
                    sa.insert(carts)
                    .values(
                        token_hash=token_hash(token),
                        token=token if member_id is not None else None,
                        channel=channel.value,
                        member_id=member_id,
                        currency_code=currency_code or self._store.currency_code,
                        status=CartStatus.OPEN.value,
                        created_at=now,
                        updated_at=now,
                        expires_at=expires_at,
                        location_id=location_id,
                    )
                    .returning(*carts.c)
                )
            ).one()
            levels = await apply_line_ops(conn, row.id, ops, holds, now, max_lines)
            return CartChange(cart_from_row(row, token), levels)

        return await self._store.write(work)

    async def change_lines(
        self,
        token: str,
        ops: Sequence[CartLineOp],
        holds: HoldPolicy,
        now: datetime,
        expires_at: datetime,
        max_lines: int,
    ) -> CartChange:
        async def work(conn: Any) -> CartChange:
            found = (
                await conn.execute(
                    sa.select(carts).where(carts.c.token_hash == token_hash(token)).with_for_update()
                )
            ).first()
            _refuse_closed(found, now)
            levels = await apply_line_ops(conn, found.id, ops, holds, now, max_lines)
            # A member's cart made before tokens were kept learns its token on its next change.
            kept = token if found.member_id is not None else None
            row = (
                await conn.execute(
                    sa.update(carts)
                    .where(carts.c.id == found.id)
                    .values(updated_at=now, expires_at=expires_at, token=kept)
                    .returning(*carts.c)
                )
            ).one()
            return CartChange(cart_from_row(row, token), levels)

        return await self._store.write(work)

    async def attach_member(
        self,
        token: str,
        member_id: str,
        merge: Callable[[list[CartLineOp], list[CartLineOp]], list[CartLineOp]],
        holds: HoldPolicy,
        now: datetime,
        expires_at: datetime,
        max_lines: int,
        carried: Callable[[int], bool] = lambda _variant_id: True,
    ) -> CartMerge:
        """The cart becomes the member's; their other open carts are merged into it (`merge`
        turns this cart's lines and theirs into ops on this cart; lines whose variant is not
        `carried`, not priced in this cart's currency, stay behind). A merged cart is kept, as
        MERGED with `merged_into_id` (its id still answers, on every device), its holds
        released."""

        async def work(conn: Any) -> CartMerge:
            found = (
                await conn.execute(
                    sa.select(carts).where(carts.c.token_hash == token_hash(token)).with_for_update()
                )
            ).first()
            _refuse_closed(found, now)
            if found.member_id not in (None, member_id):
                raise Refused("CART_NOT_FOUND", "no open cart has this id")
            others = list(
                await conn.scalars(
                    sa.select(carts.c.id)
                    .where(carts.c.member_id == member_id, carts.c.id != found.id)
                    .where(carts.c.status == CartStatus.OPEN.value, carts.c.expires_at > now)
                    .order_by(carts.c.id)
                    .with_for_update()
                )
            )
            ops: list[CartLineOp] = []
            levels: list[InventoryLevelRecord] = []
            if others:
                mine = await _line_ops(conn, [found.id])
                theirs = [op for op in await _line_ops(conn, others) if carried(op.variant_id or 0)]
                ops = merge(mine, [CartLineOp(None, *op_fields(op)) for op in theirs])
                lines = sa.select(cart_lines.c.id).where(cart_lines.c.cart_id.in_(others))
                levels += await stock_moves.release_reservations(
                    conn,
                    sa.and_(reservations.c.order_line_id.is_(None), reservations.c.cart_line_id.in_(lines)),
                    now,
                )
                await conn.execute(
                    sa.update(carts)
                    .where(carts.c.id.in_(others))
                    .values(status=CartStatus.MERGED.value, merged_into_id=found.id, updated_at=now)
                )
            levels += await apply_line_ops(conn, found.id, ops, holds, now, max_lines)
            row = (
                await conn.execute(
                    sa.update(carts)
                    .where(carts.c.id == found.id)
                    .values(member_id=member_id, token=token, updated_at=now, expires_at=expires_at)
                    .returning(*carts.c)
                )
            ).one()
            return CartMerge(cart_from_row(row, token), levels, others)

        return await self._store.write(work)

    async def release_expired_holds(
        self, now: datetime, cart_ids: Sequence[int] | None = None
    ) -> tuple[list[int], list[InventoryLevelRecord]]:
        where = stock_moves.expired_hold(now)
        if cart_ids is not None:
            lines = sa.select(cart_lines.c.id).where(cart_lines.c.cart_id.in_(cart_ids))
            where = sa.and_(where, reservations.c.cart_line_id.in_(lines))
        touched = (
            sa.select(cart_lines.c.cart_id)
            .distinct()
            .join(reservations, reservations.c.cart_line_id == cart_lines.c.id)
            .where(where)
        )

        async def work(conn: Any) -> tuple[list[int], list[InventoryLevelRecord]]:
            carts_touched = list(await conn.scalars(touched))
            return carts_touched, await stock_moves.release_reservations(conn, where, now)

        return await self._store.write(work)

    async def delete_expired_carts(self, now: datetime) -> tuple[int, list[InventoryLevelRecord]]:
        async def work(conn: Any) -> tuple[int, list[InventoryLevelRecord]]:
            ids = list(await conn.scalars(sa.select(carts.c.id).where(carts.c.expires_at <= now).limit(500)))
            if not ids:
                return 0, []
            lines = sa.select(cart_lines.c.id).where(cart_lines.c.cart_id.in_(ids))
            levels = await stock_moves.release_reservations(
                conn,
                sa.and_(reservations.c.order_line_id.is_(None), reservations.c.cart_line_id.in_(lines)),
                now,
            )
            await conn.execute(sa.delete(carts).where(carts.c.id.in_(ids)))
            return len(ids), levels

        return await self._store.write(work)


async def _line_ops(conn: Any, cart_ids: list[int]) -> list[CartLineOp]:
    """Carts' lines as ops naming them (what a merge strategy reads)."""
    rows = await conn.execute(
        sa.select(cart_lines).where(cart_lines.c.cart_id.in_(cart_ids)).order_by(cart_lines.c.id)
    )
    return [CartLineOp(r.id, r.variant_id, r.quantity, FulfillmentMode(r.mode), r.location_id) for r in rows]


def op_fields(op: CartLineOp) -> tuple[int | None, int | None, FulfillmentMode | None, int | None]:
    return op.variant_id, op.quantity, op.mode, op.location_id


def _utc(value: Any) -> datetime | None:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
