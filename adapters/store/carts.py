"""Carts in the gateway's database; a line at a store may hold stock there while the customer
shops (a row in `reservations` plus `inventory_levels.reserved`, always changed together)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from adapters.commerce import CartLineRecord, CartRecord, CartStatus, Channel, FulfillmentMode
from adapters.ports.carts import CartChange, CartLineOp, CartMerge, HoldPolicy
from adapters.ports.refused import Refused
from adapters.records import InventoryLevelRecord
from adapters.store import stock_moves
from adapters.store.tables import cart_lines, carts, keys_in_range, reservations

if TYPE_CHECKING:
    from adapters.store.database import Store

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


@dataclass(slots=True)
class _Line:
    """A line while a mutation is being applied."""

    id: int | None
    variant_id: int
    quantity: int
    mode: FulfillmentMode
    location_id: int | None
    removed: bool = False
    changed: bool = False

    def same_offer(self, op: CartLineOp) -> bool:
        return (self.variant_id, self.mode, self.location_id) == (
            op.variant_id,
            op.mode,
            op.location_id,
        )


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
    def __init__(self, store: Store) -> None:
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
            levels = await _apply(conn, row.id, ops, holds, now, max_lines)
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
            levels = await _apply(conn, found.id, ops, holds, now, max_lines)
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
            levels += await _apply(conn, found.id, ops, holds, now, max_lines)
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


async def _apply(
    conn: Any,
    cart_id: int,
    ops: Sequence[CartLineOp],
    holds: HoldPolicy,
    now: datetime,
    max_lines: int,
) -> list[InventoryLevelRecord]:
    """Apply line ops to a locked cart, then bring every line's hold in line with it."""
    lines: dict[int, _Line] = {
        r.id: _Line(r.id, r.variant_id, r.quantity, FulfillmentMode(r.mode), r.location_id)
        for r in await conn.execute(
            sa.select(cart_lines).where(cart_lines.c.cart_id == cart_id).with_for_update()
        )
    }
    hold_rows = {
        r.cart_line_id: r
        for r in await conn.execute(
            sa.select(reservations)
            .where(reservations.c.cart_line_id.in_(list(lines)))
            .where(reservations.c.order_line_id.is_(None))
            .with_for_update()
        )
    }
    levels: list[InventoryLevelRecord] = []
    expired = [r.id for r in hold_rows.values() if r.expires_at is not None and r.expires_at <= now]
    if expired:
        levels += await stock_moves.release_reservations(conn, reservations.c.id.in_(expired), now)
        hold_rows = {k: r for k, r in hold_rows.items() if r.id not in expired}

    added: list[_Line] = []
    for index, op in enumerate(ops):
        if op.line_id is None:
            assert op.variant_id is not None and op.mode is not None and op.quantity is not None
            same = next(
                (ln for ln in [*lines.values(), *added] if not ln.removed and ln.same_offer(op)),
                None,
            )
            if same is not None:
                same.quantity += op.quantity
                same.changed = True
            else:
                added.append(_Line(None, op.variant_id, op.quantity, op.mode, op.location_id))
            continue
        line = lines.get(op.line_id)
        if line is None or line.removed:
            raise Refused("LINE_NOT_FOUND", "this cart has no such line", index)
        if op.remove or op.quantity == 0:
            line.removed = True
            continue
        if op.quantity is not None:
            line.quantity = op.quantity
        if op.mode is not None:
            line.mode, line.location_id = op.mode, op.location_id
        line.changed = True
    if sum(not ln.removed for ln in [*lines.values(), *added]) > max_lines:
        raise Refused("TOO_MANY_LINES", f"a cart holds at most {max_lines} lines")

    for line in lines.values():
        if line.changed and not line.removed:
            await conn.execute(
                sa.update(cart_lines)
                .where(cart_lines.c.id == line.id)
                .values(
                    quantity=line.quantity,
                    mode=line.mode.value,
                    location_id=line.location_id,
                    updated_at=now,
                )
            )
    for line in added:
        line.id = await conn.scalar(
            sa.insert(cart_lines)
            .values(
                cart_id=cart_id,
                variant_id=line.variant_id,
                quantity=line.quantity,
                mode=line.mode.value,
                location_id=line.location_id,
                created_at=now,
                updated_at=now,
            )
            .returning(cart_lines.c.id)
        )

    levels += await _settle_holds(conn, [*lines.values(), *added], hold_rows, holds, now)
    removed = [ln.id for ln in lines.values() if ln.removed]
    if removed:
        await conn.execute(sa.delete(cart_lines).where(cart_lines.c.id.in_(removed)))
    return stock_moves.latest(levels)


async def _settle_holds(
    conn: Any, lines: list[_Line], hold_rows: dict[int, Any], holds: HoldPolicy, now: datetime
) -> list[InventoryLevelRecord]:
    """Take, grow, shrink or release each line's hold, touching levels in key order.

    A hold that cannot grow keeps what it had: the line shows as short, and checkout tries
    again for the rest."""
    moves: list[tuple[stock_moves.Key, str, int, _Line, Any]] = []
    for line in lines:
        assert line.id is not None
        row = hold_rows.get(line.id)
        key = (line.variant_id, line.location_id or 0)
        holding = not line.removed and line.location_id is not None and line.mode in holds.modes
        want = line.quantity if holding else 0
        have = 0
        if row is not None:
            if (row.variant_id, row.location_id) != key or want == 0:
                moves.append(((row.variant_id, row.location_id), "release", row.quantity, line, row))
                row = None
            else:
                have = row.quantity
        if want > have:
            moves.append((key, "grow", want - have, line, row))
        elif want < have:
            moves.append((key, "shrink", have - want, line, row))
    levels: list[InventoryLevelRecord] = []
    for key, kind, quantity, line, row in sorted(moves, key=lambda m: (m[0], m[1])):
        if kind == "release":
            await conn.execute(sa.delete(reservations).where(reservations.c.id == row.id))
            levels.append(await stock_moves.unreserve(conn, key, quantity, now))
        elif kind == "shrink":
            await conn.execute(
                sa.update(reservations)
                .where(reservations.c.id == row.id)
                .values(quantity=row.quantity - quantity)
            )
            levels.append(await stock_moves.unreserve(conn, key, quantity, now))
        else:
            level = await stock_moves.reserve(conn, key, quantity, now)
            if level is None:
                continue
            levels.append(level)
            if row is not None:
                await conn.execute(
                    sa.update(reservations)
                    .where(reservations.c.id == row.id)
                    .values(quantity=row.quantity + quantity)
                )
            else:
                await conn.execute(
                    sa.insert(reservations).values(
                        variant_id=key[0],
                        location_id=key[1],
                        quantity=quantity,
                        cart_line_id=line.id,
                        expires_at=holds.until,
                        created_at=now,
                    )
                )
    # Any change to the cart keeps every hold it still has for another full period (a cart
    # with no hold, the common web cart of shipped lines, has none to renew).
    live = [ln.id for ln in lines if not ln.removed]
    if live and (hold_rows or any(kind == "grow" for _, kind, *_ in moves)):
        await conn.execute(
            sa.update(reservations)
            .where(reservations.c.cart_line_id.in_(live), reservations.c.order_line_id.is_(None))
            .values(expires_at=holds.until)
        )
    return levels
