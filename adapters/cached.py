"""A read-through cache in front of the catalog, location and stock ports.

Catalog and locations change rarely, stock often; all are read on every listing. Records are kept
per id, for a TTL, and dropped by the events that change them (the gateway wires its event bus
to `forget_*`). A fetch that overlaps a change is not stored: each cache counts its changes and a
result fetched under an older count is returned but not kept. Writes always go to the system of
record; nothing that decides a sale (allocation, adjustment) ever reads from here.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from adapters.ports.catalog import CatalogSource, PriceSource, ProductFilter, ProductSortKey
from adapters.ports.inventory import InventorySource, LocationDirectory, StockAdjusted
from adapters.ports.marketing import OfferRecord, OfferStore
from adapters.ports.paging import KeysetPage
from adapters.ports.upstreams import Upstreams
from adapters.records import (
    InventoryLevelRecord,
    InventoryReason,
    LocationRecord,
    MarketRecord,
    PriceListRecord,
    PriceRecord,
    ProductRecord,
    SafetyStockChange,
    StockChange,
    VariantRecord,
)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
_MISSING = object()


class _Entries:
    """An LRU of id -> value with a TTL and a change counter; simultaneous misses share a read."""

    def __init__(self, ttl: float, max_entries: int) -> None:
        self._data: OrderedDict[Any, tuple[float, Any]] = OrderedDict()
        self._ttl = ttl
        self._max = max_entries
        self.changes = 0
        # key -> the read under way that will bring it: when entries expire under load, the
        # requests that miss at once wait for one read instead of each reading the same rows.
        self._reading: dict[Any, asyncio.Future[dict[Any, Any]]] = {}

    def get(self, key: Any, now: float) -> Any:
        found = self._data.get(key)
        if found is None or found[0] < now:
            return _MISSING
        return found[1]

    def put(self, key: Any, value: Any, now: float) -> None:
        self._data[key] = (now + self._ttl, value)
        self._data.move_to_end(key)
        if len(self._data) > self._max:
            self._data.popitem(last=False)

    def forget(self, keys: Sequence[Any] | None = None) -> None:
        self.changes += 1
        if keys is None:
            self._data.clear()
            self._reading.clear()  # a read under way may predate the change: nobody joins it now
        else:
            for key in keys:
                self._data.pop(key, None)
                self._reading.pop(key, None)

    async def read_through(
        self, keys: Sequence[K], fetch: Callable[[list[K]], Awaitable[dict[K, V]]], empty: Any = None
    ) -> list[V]:
        now = time.monotonic()
        values = [self.get(k, now) for k in keys]
        missing = list(dict.fromkeys(k for k, v in zip(keys, values, strict=True) if v is _MISSING))
        if not missing:
            return values
        reading = self._reading
        joined: dict[asyncio.Future[dict[Any, Any]], list[K]] = {}
        mine = []
        for key in missing:
            under_way = reading.get(key)
            if under_way is None:
                mine.append(key)
            else:
                joined.setdefault(under_way, []).append(key)
        fetched: dict[K, V] = {}
        if mine:
            fetched.update(await self._read(mine, fetch, now, empty))
        for under_way, their_keys in joined.items():
            fetched.update(await _join(under_way, their_keys, fetch))
        return [fetched.get(k, empty) if v is _MISSING else v for k, v in zip(keys, values, strict=True)]

    async def _read(
        self, keys: list[K], fetch: Callable[[list[K]], Awaitable[dict[K, V]]], now: float, empty: Any
    ) -> dict[K, V]:
        future: asyncio.Future[dict[Any, Any]] = asyncio.get_running_loop().create_future()
        for key in keys:
            self._reading[key] = future
        changes = self.changes
        try:
            fetched = await fetch(keys)
        except BaseException:
            future.cancel()  # those who joined read for themselves
            raise
        finally:
            for key in keys:
                if self._reading.get(key) is future:
                    del self._reading[key]
        future.set_result(fetched)
        if changes == self.changes:
            for key in keys:
                self.put(key, fetched.get(key, empty), now)
        return fetched


Fetch = Callable[[list[K]], Awaitable[dict[K, V]]]


async def _join(under_way: asyncio.Future[dict[Any, Any]], keys: list[K], fetch: Fetch[K, V]) -> dict[K, V]:
    """The values of `keys` from a read another request started; if that read failed, our own."""
    try:
        return await asyncio.shield(under_way)
    except asyncio.CancelledError:
        if not under_way.cancelled():
            raise  # this request was cancelled, not the read
    return await fetch(keys)


class CachedCatalog:
    def __init__(self, inner: CatalogSource, ttl: float, max_entries: int) -> None:
        self._inner = inner
        self.products = _Entries(ttl, max_entries)
        self.variants_of = _Entries(ttl, max_entries)
        self.variants = _Entries(ttl, max_entries * 4)
        # Pages of the listing by (ordering, window, filter): a category page read by every
        # shopper is one SQL statement per TTL, not one per request. A filter on stock
        # (`availableAt`) changes with every sale: those pages always go to the source.
        self.pages = _Entries(ttl, max_entries)
        self.handles = _Entries(ttl, max_entries)  # a product page is asked for by handle

    def forget_all(self) -> None:
        for entries in (self.products, self.variants_of, self.variants, self.pages, self.handles):
            entries.forget()

    async def product_page(
        self, sort_key: ProductSortKey, page: KeysetPage, where: ProductFilter
    ) -> list[ProductRecord]:
        if where.available_at:
            return await self._inner.product_page(sort_key, page, where)

        async def fetch(keys: list[Any]) -> dict[Any, list[ProductRecord]]:
            return {keys[0]: await self._inner.product_page(sort_key, page, where)}

        [rows] = await self.pages.read_through([(sort_key, page, where)], fetch, empty=[])
        return rows

    async def products_by_ids(self, ids: Sequence[int]) -> list[ProductRecord]:
        async def fetch(keys: list[int]) -> dict[int, ProductRecord]:
            return {p.id: p for p in await self._inner.products_by_ids(keys)}

        return [p for p in await self.products.read_through(ids, fetch) if p is not None]

    async def products_by_handles(self, handles: Sequence[str]) -> list[ProductRecord]:
        async def fetch(keys: list[str]) -> dict[str, ProductRecord]:
            return {p.handle: p for p in await self._inner.products_by_handles(keys)}

        return [p for p in await self.handles.read_through(handles, fetch) if p is not None]

    async def variants_by_product_ids(self, product_ids: Sequence[int]) -> list[VariantRecord]:
        return [v for variants in await self.variants_per_product(product_ids) for v in variants]

    async def variants_per_product(self, product_ids: Sequence[int]) -> list[list[VariantRecord]]:
        """The variants of each product, in the order of `product_ids` (shared lists: read only)."""

        async def fetch(keys: list[int]) -> dict[int, list[VariantRecord]]:
            grouped: dict[int, list[VariantRecord]] = {k: [] for k in keys}
            for v in await self._inner.variants_by_product_ids(keys):
                grouped[v.product_id].append(v)
            return grouped

        return await self.variants_of.read_through(product_ids, fetch, empty=[])

    async def variants_by_ids(self, ids: Sequence[int]) -> list[VariantRecord]:
        async def fetch(keys: list[int]) -> dict[int, VariantRecord]:
            return {v.id: v for v in await self._inner.variants_by_ids(keys)}

        return [v for v in await self.variants.read_through(ids, fetch) if v is not None]

    async def categories(self) -> list[str]:
        return await self._inner.categories()


class CachedLocations:
    def __init__(self, inner: LocationDirectory, ttl: float) -> None:
        self._inner = inner
        self._ttl = ttl
        self._all: tuple[float, list[LocationRecord]] | None = None
        self._loading: tuple[int, asyncio.Future[list[LocationRecord]]] | None = None
        self.changes = 0

    def forget_all(self) -> None:
        self.changes += 1
        self._all = None

    async def all_locations(self) -> list[LocationRecord]:
        now = time.monotonic()
        if self._all is not None and self._all[0] >= now:
            return self._all[1]
        # One read for everyone who misses at once (thousands of subscribers woken by one event).
        if self._loading is None or self._loading[0] != self.changes:
            loading = asyncio.ensure_future(self._load(now))
            self._loading = (self.changes, loading)
            loading.add_done_callback(self._loaded)
        return await asyncio.shield(self._loading[1])

    async def _load(self, now: float) -> list[LocationRecord]:
        changes = self.changes
        every = await self._inner.all_locations()
        if changes == self.changes:
            self._all = (now + self._ttl, every)
        return every

    def _loaded(self, future: asyncio.Future[list[LocationRecord]]) -> None:
        if self._loading is not None and self._loading[1] is future:
            self._loading = None

    async def locations_by_ids(self, ids: Sequence[int]) -> list[LocationRecord]:
        wanted = set(ids)
        return [loc for loc in await self.all_locations() if loc.id in wanted]


class CachedInventory:
    def __init__(self, inner: InventorySource, ttl: float, max_entries: int) -> None:
        self._inner = inner
        self.levels = _Entries(ttl, max_entries)

    def forget_variants(self, variant_ids: Sequence[int]) -> None:
        self.levels.forget(variant_ids)

    def forget_all(self) -> None:
        self.levels.forget()

    async def levels_by_variant_ids(self, variant_ids: Sequence[int]) -> list[InventoryLevelRecord]:
        return [level for levels in await self.levels_per_variant(variant_ids) for level in levels]

    async def levels_per_variant(self, variant_ids: Sequence[int]) -> list[list[InventoryLevelRecord]]:
        """The stock of each variant, in the order of `variant_ids` (shared lists: read only)."""

        async def fetch(keys: list[int]) -> dict[int, list[InventoryLevelRecord]]:
            grouped: dict[int, list[InventoryLevelRecord]] = {k: [] for k in keys}
            for level in await self._inner.levels_by_variant_ids(keys):
                grouped[level.variant_id].append(level)
            return grouped

        return await self.levels.read_through(variant_ids, fetch, empty=[])

    async def adjust(
        self, changes: Sequence[StockChange], reason: InventoryReason, reference: str | None, actor: str
    ) -> StockAdjusted:
        try:
            return await self._inner.adjust(changes, reason, reference, actor)
        finally:
            self.forget_variants([c.variant_id for c in changes])

    async def set_safety_stock(self, change: SafetyStockChange, actor: str) -> InventoryLevelRecord:
        try:
            return await self._inner.set_safety_stock(change, actor)
        finally:
            self.forget_variants([change.variant_id])

    async def ping(self) -> None:
        await self._inner.ping()


class CachedPrices:
    """Price lists and each variant's prices on every list: data, not answers. Which price a
    caller sees (their channel, currency, store, tier) is decided per request above this
    (resolvers/prices.py), so nothing here is keyed by who asks and nothing can leak between
    contexts; a catalog event forgets it all."""

    def __init__(self, inner: PriceSource, ttl: float, max_entries: int) -> None:
        self._inner = inner
        self.book = _Entries(ttl, 2)  # the price lists, the markets
        self.variants = _Entries(ttl, max_entries * 4)

    def forget_all(self) -> None:
        self.book.forget()
        self.variants.forget()

    async def price_lists(self) -> tuple[PriceListRecord, ...]:
        async def fetch(keys: list[str]) -> dict[str, Any]:
            return {"lists": await self._inner.price_lists()}

        [found] = await self.book.read_through(["lists"], fetch)
        return found  # type: ignore[no-any-return]

    async def markets(self) -> tuple[MarketRecord, ...]:
        async def fetch(keys: list[str]) -> dict[str, Any]:
            return {"markets": await self._inner.markets()}

        [found] = await self.book.read_through(["markets"], fetch)
        return found  # type: ignore[no-any-return]

    async def prices_by_variant_ids(self, variant_ids: Sequence[int]) -> list[PriceRecord]:
        return [p for rows in await self.prices_per_variant(variant_ids) for p in rows]

    async def prices_per_variant(self, variant_ids: Sequence[int]) -> list[list[PriceRecord]]:
        """Each variant's prices on every list, in the order of `variant_ids` (shared: read only)."""

        async def fetch(keys: list[int]) -> dict[int, list[PriceRecord]]:
            grouped: dict[int, list[PriceRecord]] = {k: [] for k in keys}
            for price in await self._inner.prices_by_variant_ids(keys):
                grouped[price.variant_id].append(price)
            return grouped

        return await self.variants.read_through(variant_ids, fetch, empty=[])


class CachedOffers:
    """Every offer (a cart's lines each consult them all), kept for the catalog TTL: offers change
    rarely and carry their own dates, which are checked at the moment of use. A change through
    this process forgets at once; the offer mutations' catalog event makes other processes forget."""

    def __init__(self, inner: OfferStore, ttl: float) -> None:
        self._inner = inner
        self.all = _Entries(ttl, 1)

    def forget_all(self) -> None:
        self.all.forget()

    async def all_offers(self) -> list[OfferRecord]:
        async def fetch(keys: list[str]) -> dict[str, Any]:
            return {"offers": await self._inner.all_offers()}

        [found] = await self.all.read_through(["offers"], fetch)
        return found  # type: ignore[no-any-return]

    async def offers_by_ids(self, ids: Sequence[int]) -> list[OfferRecord]:
        return await self._inner.offers_by_ids(ids)

    async def offer_page(self, page: KeysetPage) -> list[OfferRecord]:
        return await self._inner.offer_page(page)

    async def save_offer(self, offer: OfferRecord, now: datetime) -> OfferRecord | None:
        try:
            return await self._inner.save_offer(offer, now)
        finally:
            self.forget_all()

    async def delete_offer(self, offer_id: int) -> bool:
        try:
            return await self._inner.delete_offer(offer_id)
        finally:
            self.forget_all()


class CachedUpstreams:
    """The ports behind read-through caches, and the handles to make them forget."""

    def __init__(self, inner: Upstreams, *, catalog_ttl: float, stock_ttl: float, max_entries: int) -> None:
        self.catalog = CachedCatalog(inner.catalog, catalog_ttl, max_entries)
        self.locations = CachedLocations(inner.locations, catalog_ttl)
        self.inventory = CachedInventory(inner.inventory, stock_ttl, max_entries)
        self.prices = None if inner.prices is None else CachedPrices(inner.prices, catalog_ttl, max_entries)
        self.offers = None if inner.offers is None else CachedOffers(inner.offers, catalog_ttl)
        self.upstreams = dataclasses.replace(
            inner,
            catalog=self.catalog,
            locations=self.locations,
            inventory=self.inventory,
            prices=self.prices or inner.prices,
            offers=self.offers or inner.offers,
        )

    def forget(self, topic: str, event: Any = None) -> None:
        if topic == "stock":
            variant_id = getattr(event, "variant_id", None)
            if variant_id is None:
                self.inventory.forget_all()
            else:
                self.inventory.forget_variants([variant_id])
        elif topic == "catalog":
            self.catalog.forget_all()
            if self.prices is not None:
                self.prices.forget_all()
            if self.offers is not None:
                self.offers.forget_all()
        elif topic == "locations":
            self.locations.forget_all()
