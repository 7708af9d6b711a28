"""Change feeds into the read model: poll each upstream feed from its watermark, upsert what
changed, publish StockChanged for every level that moved. Run by the leader only; a webhook or
the gateway itself can `poke()` it to poll at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from adapters.errors import UpstreamError
from adapters.ports import CatalogFeed, StockFeed
from adapters.resilience import UpstreamHealth
from adapters.store import Store
from adapters.store.readmodel import ReadModel
from gateway.freshness import FeedStatus
from gateway.leader import Leadership, SoleProcess
from resolvers.events import CatalogChanged, EventPublisher, StockChanged

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
        self._locations_synced = False
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
                if not self._locations_synced:
                    await self._read_model.apply_locations(name, await stock.stock_locations())
                    self._locations_synced = True
                since, _ = await self._read_model.position(name, "stock")
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
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), interval)
        finally:
            await self._leadership.resign()

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
