"""An upstream that lives in memory: the fake for unit tests, and the smallest example of an
upstream package (`GATEWAY_CATALOG=memory` works). Its data is whatever a test puts in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime

from adapters.ports.feeds import (
    CatalogChanges,
    StockChanges,
    UpstreamLevel,
    UpstreamLocation,
    UpstreamProduct,
)
from adapters.records import MemberDraft, MemberRecord, OrderPush, OrderState, PushedOrder
from adapters.resilience import Guard, ResiliencePolicy


@dataclass
class MemoryData:
    products: list[UpstreamProduct] = field(default_factory=list)
    locations: list[UpstreamLocation] = field(default_factory=list)
    levels: list[UpstreamLevel] = field(default_factory=list)
    members: dict[str, MemberRecord] = field(default_factory=dict)
    orders: dict[str, PushedOrder] = field(default_factory=dict)
    down: bool = False  # every call fails as if the system were unreachable


class _Feeds:
    def __init__(self, data: MemoryData, guard: Guard) -> None:
        self._data = data
        self._guard = guard

    async def _read(self, value):  # type: ignore[no-untyped-def]
        async def attempt():  # type: ignore[no-untyped-def]
            if self._data.down:
                from adapters.errors import UpstreamUnavailable

                raise UpstreamUnavailable("memory upstream is down")
            return value

        return await self._guard.call(attempt, idempotent=True)

    async def catalog_changes(self, since: str | None) -> CatalogChanges:
        return CatalogChanges(await self._read(list(self._data.products)), None)

    async def stock_locations(self) -> list[UpstreamLocation]:
        return await self._read(list(self._data.locations))  # type: ignore[no-any-return]

    async def stock_changes(self, since: str | None) -> StockChanges:
        return StockChanges(await self._read(list(self._data.levels)), None)

    async def members_by_keys(self, keys: Sequence[str]) -> list[MemberRecord]:
        return [m for k in keys if (m := self._data.members.get(k))]

    async def members_by_emails(self, emails: Sequence[str]) -> list[MemberRecord]:
        return [m for m in self._data.members.values() if m.email in emails]

    async def upsert_member(self, member: MemberDraft) -> MemberRecord:
        [found] = await self.members_by_emails([member.email]) or [None]
        key = found.key if found else str(len(self._data.members) + 1)
        record = MemberRecord(key, member.email, member.first_name, member.last_name, None, ())
        self._data.members[key] = record
        return record

    async def export_member(self, key: str) -> dict[str, object] | None:
        found = self._data.members.get(await self._read(key))
        return None if found is None else asdict(found)

    async def erase_member(self, key: str, now: datetime) -> bool:
        """The CRM's side of an erasure: the record kept under its key, with nothing personal."""
        found = self._data.members.get(await self._read(key))
        if found is None:
            return False
        self._data.members[key] = MemberRecord(key, None, "", "", None, ())
        return True

    async def push_order(self, order: OrderPush) -> PushedOrder:
        await self._read(None)
        found = self._data.orders.get(order.reference)
        if found:
            return replace(found, created=False)
        pushed = PushedOrder(order.reference, str(len(self._data.orders) + 1), OrderState.CONFIRMED)
        self._data.orders[order.reference] = pushed
        return replace(pushed, created=True)

    async def order_states(self, references: Sequence[str]) -> list[PushedOrder]:
        return [o for r in references if (o := self._data.orders.get(r))]


@dataclass
class MemoryUpstream:
    name: str
    guard: Guard
    data: MemoryData
    catalog: _Feeds
    stock: _Feeds
    members: _Feeds
    orders: _Feeds

    async def aclose(self) -> None:
        return None


def connect(data: MemoryData | None = None, policy: ResiliencePolicy | None = None) -> MemoryUpstream:
    data = data or MemoryData()
    guard = Guard("memory", policy)
    feeds = _Feeds(data, guard)
    return MemoryUpstream("memory", guard, data, feeds, feeds, feeds, feeds)
