"""Batching one GraphQL level into one upstream call: the DataLoader every loader builds on, made
cheap for whole levels (the compiled executor's `load_many`), and the helpers that put a batch's
records back in the order of its keys."""

from __future__ import annotations

from asyncio import Future
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from contextvars import ContextVar
from typing import Any, TypeVar

from aiodataloader import DataLoader

K = TypeVar("K", bound=Hashable)
R = TypeVar("R")


# Set while the compiled executor runs: each `load_many` call then asks for every key its level
# needs (nothing else of the request will join the batch), so it goes straight to the batch
# function instead of waiting a turn of the event loop for other loads to gather.
WHOLE_LEVELS: ContextVar[bool] = ContextVar("omnigate_whole_levels", default=False)
_MISSING: Any = object()


class Loader(DataLoader[K, R]):
    """aiodataloader's DataLoader, with `load_many` made cheap for whole batches.

    The compiled executor asks for a whole level at once (1,500 stock rows' locations in one
    call): the stock `load_many` gathers one future per key. Here values are kept as values;
    under WHOLE_LEVELS the keys not yet known go to the batch function in one direct call (with
    a warm entity cache, a listing then runs without yielding to the event loop); otherwise
    they go through `load`, coalescing with the standard executor's per-object loads.
    """

    def __init__(self) -> None:
        super().__init__()
        self._values: dict[Any, Any] = {}

    async def load_many(self, keys: Iterable[K]) -> list[R]:  # type: ignore[override]
        keys = list(keys)
        values = self._values
        missing = [k for k in dict.fromkeys(keys) if k not in values]
        if missing:
            cache = self._cache
            if WHOLE_LEVELS.get():
                fresh = [k for k in missing if k not in cache]
                if fresh:
                    found = await self.batch_load_fn(fresh)
                    if len(found) != len(fresh):
                        raise ValueError(f"{type(self).__name__} answered {len(found)} of {len(fresh)} keys")
                    values.update(zip(fresh, found, strict=True))
                missing = [k for k in missing if k not in values]
            futures = [cache.get(k) or self.load(k) for k in missing]
            for future in futures:
                if not future.done():
                    await future
            for key, future in zip(missing, futures, strict=True):
                values[key] = future.result()
        return [values[k] for k in keys]

    def load(self, key: K) -> Future[R]:
        value = self._values.get(key, _MISSING)
        if value is _MISSING:
            return super().load(key)
        future = self.loop.create_future()
        future.set_result(value)
        return future

    def prime(self, key: K, value: R) -> Loader[K, R]:
        if key not in self._cache:
            self._values.setdefault(key, value)
        return self

    def clear(self, key: K) -> Loader[K, R]:
        self._values.pop(key, None)
        super().clear(key)
        return self

    def clear_all(self) -> Loader[K, R]:
        self._values.clear()
        super().clear_all()
        return self


def one_per_key(keys: Sequence[K], records: Iterable[R], key: Callable[[R], K]) -> list[R | None]:
    found = {key(r): r for r in records}
    return [found.get(k) for k in keys]


def many_per_key(keys: Sequence[K], records: Iterable[R], key: Callable[[R], K]) -> list[list[R]]:
    groups: dict[K, list[R]] = defaultdict(list)
    for r in records:
        groups[key(r)].append(r)
    return [groups.get(k, []) for k in keys]
