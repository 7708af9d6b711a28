"""Segments in the gateway's database: their definitions, and their rules evaluated in SQL over
the unified profile (members, gateway-kept profile fields, consents, every channel's orders and
the loyalty ledger), the same statement on SQLite and PostgreSQL.

The members a segment looks at are every member key the gateway knows: its own directory's,
the profiles it keeps for a CRM's members, and the members named on orders."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from adapters.commerce import OrderStatus
from adapters.ports.marketing import SegmentCodeTaken, SegmentRecord, SegmentRules, TierBands
from adapters.store.tables import (
    loyalty_entries,
    marketing_consents,
    member_profiles,
    members,
    order_lines,
    orders,
    products,
    segments,
    variants,
)

if TYPE_CHECKING:
    from adapters.ports.paging import KeysetPage
    from adapters.store.engine import Database

NOT_PURCHASES = (OrderStatus.PENDING_PAYMENT.value, OrderStatus.CANCELLED.value)


def rules_to_json(rules: SegmentRules) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(rules).items()}


def rules_from_json(value: dict[str, Any]) -> SegmentRules:
    names = {f.name for f in dataclasses.fields(SegmentRules)}
    given = {k: tuple(v) if isinstance(v, list) else v for k, v in value.items() if k in names}
    return SegmentRules(**given)


def _segment(row: Any) -> SegmentRecord:
    return SegmentRecord(
        row.id, row.code, row.name, rules_from_json(row.rules), row.created_at, row.updated_at
    )


def _known_members() -> Any:
    """Every member key the gateway knows, once each."""
    return sa.union(
        sa.select(members.c.id.label("key")),
        sa.select(member_profiles.c.member_key.label("key")),
        sa.select(orders.c.member_id.label("key")).where(orders.c.member_id.is_not(None)),
    ).subquery("known")


def _condition(rules: SegmentRules, key: Any, now: datetime, tiers: TierBands) -> list[Any]:
    """The rules as SQL conditions on the member key column `key` (members and member_profiles
    are joined by the caller)."""
    purchases = sa.select(orders.c.id).where(orders.c.member_id == key, orders.c.status.not_in(NOT_PURCHASES))
    where: list[Any] = []
    if rules.tiers or rules.min_spend_minor is not None or rules.max_spend_minor is not None:
        spend = (
            sa.select(sa.func.coalesce(sa.func.sum(loyalty_entries.c.spend_minor), 0))
            .where(loyalty_entries.c.member_id == key, loyalty_entries.c.created_at >= now - tiers.window)
            .scalar_subquery()
        )
        if rules.min_spend_minor is not None:
            where.append(spend >= rules.min_spend_minor)
        if rules.max_spend_minor is not None:
            where.append(spend <= rules.max_spend_minor)
        if rules.tiers:
            bands = []
            ceiling = None
            for name, floor in tiers.bands:  # highest first: each band ends where the one above starts
                if name in rules.tiers:
                    bands.append(sa.and_(spend >= floor, *([] if ceiling is None else [spend < ceiling])))
                ceiling = floor
            if tiers.base in rules.tiers:
                bands.append(spend < ceiling if ceiling is not None else sa.true())
            where.append(sa.or_(*bands) if bands else sa.false())
    if rules.purchased_within_days is not None:
        since = now - timedelta(days=rules.purchased_within_days)
        where.append(purchases.where(orders.c.created_at >= since).exists())
    if rules.lapsed_days is not None:
        since = now - timedelta(days=rules.lapsed_days)
        where.append(purchases.exists())
        where.append(~purchases.where(orders.c.created_at >= since).exists())
    if rules.channels_used:
        where.append(purchases.where(orders.c.channel.in_(rules.channels_used)).exists())
    if rules.categories_bought:
        bought = (
            sa.select(order_lines.c.id)
            .join(orders, orders.c.id == order_lines.c.order_id)
            .join(variants, variants.c.id == order_lines.c.variant_id)
            .join(products, products.c.id == variants.c.product_id)
            .where(orders.c.member_id == key, orders.c.status.not_in(NOT_PURCHASES))
            .where(products.c.category.in_(rules.categories_bought))
        )
        where.append(bought.exists())
    if rules.preferred_location_ids:
        preferred = sa.func.coalesce(member_profiles.c.preferred_location_id, members.c.preferred_location_id)
        where.append(preferred.in_(rules.preferred_location_ids))
    if rules.consent_channel is not None:
        answered = sa.select(marketing_consents.c.granted).where(
            marketing_consents.c.member_key == key, marketing_consents.c.channel == rules.consent_channel
        )
        flag = sa.func.coalesce(member_profiles.c.marketing_consent, members.c.marketing_consent, sa.false())
        where.append(
            sa.or_(
                answered.where(marketing_consents.c.granted.is_(True)).exists(),
                sa.and_(~answered.exists(), flag.is_(True)),
            )
        )
    return where


def _members_matching(rules: SegmentRules, now: datetime, tiers: TierBands) -> tuple[Any, Any]:
    known = _known_members()
    stmt = sa.select(known.c.key).select_from(
        known.outerjoin(members, members.c.id == known.c.key).outerjoin(
            member_profiles, member_profiles.c.member_key == known.c.key
        )
    )
    return stmt.where(*_condition(rules, known.c.key, now, tiers)), known.c.key


class StoreSegments:
    def __init__(self, store: Database) -> None:
        self._store = store

    async def segments_by_ids(self, ids: Sequence[int]) -> list[SegmentRecord]:
        async with self._store.reading() as conn:
            rows = await conn.execute(sa.select(segments).where(segments.c.id.in_(list(ids))))
            return [_segment(r) for r in rows]

    async def segment_page(self, page: KeysetPage) -> list[SegmentRecord]:
        stmt = sa.select(segments)
        if page.after is not None:
            stmt = stmt.where(segments.c.id > page.after[1])
        if page.before is not None:
            stmt = stmt.where(segments.c.id < page.before[1])
        order = segments.c.id.desc() if page.descending else segments.c.id
        async with self._store.reading() as conn:
            return [_segment(r) for r in await conn.execute(stmt.order_by(order).limit(page.limit))]

    async def save_segment(
        self, segment_id: int | None, code: str, name: str, rules: SegmentRules, now: datetime
    ) -> SegmentRecord | None:
        """Create (no id) or replace a segment; None: no segment with that id. Raises
        SegmentCodeTaken when another segment has the code."""
        values = {"code": code, "name": name, "rules": rules_to_json(rules), "updated_at": now}

        async def work(conn: Any) -> SegmentRecord | None:
            if segment_id is None:
                done = await conn.execute(sa.insert(segments).values(**values, created_at=now))
                new_id = done.inserted_primary_key[0]
            else:
                done = await conn.execute(
                    sa.update(segments).where(segments.c.id == segment_id).values(**values)
                )
                if not done.rowcount:
                    return None
                new_id = segment_id
            return _segment((await conn.execute(sa.select(segments).where(segments.c.id == new_id))).one())

        try:
            return await self._store.write(work)
        except IntegrityError as exc:
            raise SegmentCodeTaken(code) from exc

    async def delete_segment(self, segment_id: int) -> bool:
        async def work(conn: Any) -> bool:
            return bool((await conn.execute(sa.delete(segments).where(segments.c.id == segment_id))).rowcount)

        return await self._store.write(work)

    async def member_page(
        self, rules: SegmentRules, now: datetime, tiers: TierBands, page: KeysetPage
    ) -> list[str]:
        """Keys of the members meeting the rules, in key order (a page of them)."""
        stmt, key = _members_matching(rules, now, tiers)
        if page.after is not None:
            stmt = stmt.where(key > page.after[0])
        if page.before is not None:
            stmt = stmt.where(key < page.before[0])
        stmt = stmt.order_by(key.desc() if page.descending else key).limit(page.limit)
        async with self._store.reading() as conn:
            return [r.key for r in await conn.execute(stmt)]

    async def segments_of_member(
        self, member_key: str, now: datetime, tiers: TierBands
    ) -> list[SegmentRecord]:
        """The segments the member is in: every segment's rules against this one member, one
        statement (a UNION of one small query per segment)."""
        async with self._store.reading() as conn:
            defined = [_segment(r) for r in await conn.execute(sa.select(segments).order_by(segments.c.id))]
            if not defined:
                return []
            queries = []
            for segment in defined:
                stmt, key = _members_matching(segment.rules, now, tiers)
                queries.append(
                    sa.select(sa.literal(segment.id).label("segment_id")).select_from(
                        stmt.where(key == member_key).subquery()
                    )
                )
            found = {r.segment_id for r in await conn.execute(sa.union_all(*queries))}
        return [s for s in defined if s.id in found]
