"""Change feeds into the read model: poll each upstream feed from its watermark, upsert what
changed, publish StockChanged for every level that moved. Run by the leader only; a webhook or
the gateway itself can `poke()` it to poll at once.

Every process answers with the same freshness: the leader publishes each feed's outcome
(`FeedSynced`) to the others, and a process that does not lead also re-reads the last sync
time from the database every cycle (an event missed while Redis was away). A webhook that
reaches any process becomes a `SyncRequested` event the leader hears; with no polling loop
(`GATEWAY_SYNC_INTERVAL_S=0`), the process it reached polls once itself, under the lock.

Locations are read on every poll: a store or warehouse added in the upstream after start is
added here, its stock read in full, and a `LocationsChanged` event makes the caches forget."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from adapters.errors import UpstreamError
from adapters.ports.feeds import CatalogFeed, StockFeed
from adapters.resilience import UpstreamHealth
from adapters.store import Store
from adapters.store.readmodel import ReadModel
from gateway.upstreams.freshness import FeedStatus
from gateway.upstreams.leader import Leadership, SoleProcess
from resolvers.events import (
    CatalogChanged,
    EventPublisher,
    FeedSynced,
    LocationsChanged,
    StockChanged,
    SyncRequested,
)

log = logging.getLogger("omnigate.sync")


@dataclass(slots=True)
class SyncReport:
    products: int = 0
    levels_changed: int = 0
    failed: bool = False


class ReadModelSync:
    def __init__(
        self,
        store: Store,
        events: EventPublisher,
        *,
        catalog: tuple[str, CatalogFeed, UpstreamHealth] | None = None,
        stock: tuple[str, StockFeed, UpstreamHealth] | None = None,
        leadership: Leadership | None = None,
    ) -> None:
        self._store = store
        self._read_model = ReadModel(store)
        self._events = events
        self._catalog = catalog
        self._stock = stock
        self._leadership = leadership or SoleProcess()
        self._wake = asyncio.Event()
        self._polling: asyncio.Task[None] | None = None
        self._poll_again = False
        self.statuses: dict[str, FeedStatus] = {}
        if catalog:
            self.statuses["catalog"] = FeedStatus(catalog[0], "catalog", catalog[2])
        if stock:
            self.statuses["stock"] = FeedStatus(stock[0], "inventory", stock[2])

    @property
    def upstreams(self) -> set[str]:
        return {status.upstream for status in self.statuses.values()}

    async def load_positions(self) -> None:
        """Start from what was last synced, so a restart with the ERP down still says when."""
        for feed, status in self.statuses.items():
            _, status.synced_at = await self._read_model.position(status.upstream, feed)

    def poke(self) -> None:
        self._wake.set()

    def heard(self, event: object) -> None:
        """A `sync` event from the bus (this process's or another's)."""
        if isinstance(event, SyncRequested) and event.upstream in self.upstreams:
            self.poke()
        elif isinstance(event, FeedSynced):
            status = self.statuses.get(event.feed)
            if status is None or status.upstream != event.upstream:
                return
            if event.ok:
                if status.synced_at is None or event.occurred_at > status.synced_at:
                    status.synced_at = event.occurred_at
                status.last_error = None
            else:
                status.last_error = event.error

    async def refresh(self) -> None:
        """What the leader last synced, from the database (for a process that does not poll)."""
        for feed, status in self.statuses.items():
            _, synced_at = await self._read_model.position(status.upstream, feed)
            if synced_at is not None and (status.synced_at is None or synced_at > status.synced_at):
                status.synced_at = synced_at
                status.last_error = None

    def poll_soon(self) -> asyncio.Task[None]:
        """Poll once in this process, under the polling lock, in the background (no loop runs
        here); asked again while polling, it polls once more afterwards."""
        if self._polling is None or self._polling.done():
            self._polling = asyncio.get_running_loop().create_task(self._poll_under_lock())
        else:
            self._poll_again = True
        return self._polling

    async def _poll_under_lock(self) -> None:
        while True:
            self._poll_again = False
            if await self._leadership.lead():
                try:
                    await self.run_once()
                finally:
                    await self._leadership.resign()
            else:
                log.info("another process holds the polling lead; it was asked to poll")
            if not self._poll_again:
                return

    async def stop(self) -> None:
        if self._polling is not None:
            self._polling.cancel()
            await asyncio.gather(self._polling, return_exceptions=True)

    async def run_once(self) -> SyncReport:
        report = SyncReport()
        # Catalog first: stock for a SKU that is not in the read model yet would be skipped.
        if self._catalog:
            name, feed, _ = self._catalog
            async with self._feed("catalog", report):
                since, _ = await self._read_model.position(name, "catalog")
                changes = await feed.catalog_changes(since)
                written = await self._read_model.apply_catalog(name, changes)
                report.products = len(written)
                if written:
                    await self._events.publish(CatalogChanged(tuple(written), "SYNC", datetime.now(UTC)))
        if self._stock:
            name, stock, _ = self._stock
            async with self._feed("stock", report):
                added = await self._read_model.apply_locations(name, await stock.stock_locations())
                since, _ = await self._read_model.position(name, "stock")
                if added:
                    since = None  # a new location: read its stock in full, not only what moved
                    await self._events.publish(LocationsChanged(tuple(added), "SYNC", datetime.now(UTC)))
                changed = await self._read_model.apply_stock(name, await stock.stock_changes(since))
                report.levels_changed = len(changed)
                for level in changed:
                    await self._events.publish(StockChanged.of(level, "SYNC"))
        return report

    async def run_forever(self, interval: float) -> None:
        try:
            while True:
                if await self._leadership.lead():
                    await self.run_once()
                else:  # another process polls: say what it last managed, as it does
                    await self._refreshed()
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), interval)
        finally:
            await self._leadership.resign()

    async def _refreshed(self) -> None:
        try:
            await self.refresh()
        except Exception as exc:  # the database is away: the next cycle tries again
            log.warning("could not read the sync state: %s", exc)

    @contextlib.asynccontextmanager
    async def _feed(self, feed: str, report: SyncReport):  # type: ignore[no-untyped-def]
        status = self.statuses[feed]
        try:
            yield
        except UpstreamError as exc:
            report.failed = True
            status.last_error = str(exc)
            log.warning("%s %s sync failed: %s", status.upstream, feed, exc)
        except Exception as exc:  # a bug or the database: keep polling, say so
            report.failed = True
            status.last_error = f"synchronisation failed ({type(exc).__name__})"
            log.exception("%s %s sync failed", status.upstream, feed)
        else:
            status.last_error = None
            status.synced_at = datetime.now(UTC)
        outcome = FeedSynced(
            status.upstream,
            feed,
            status.last_error is None,
            status.last_error,
            status.synced_at if status.last_error is None and status.synced_at else datetime.now(UTC),
        )
        try:
            await self._events.publish(outcome)
        except Exception as exc:  # the others learn it from the database on their next cycle
            log.warning("could not share the %s %s sync outcome: %s", status.upstream, feed, exc)
