"""The request loaders: whole levels in one call, per-object loads still coalesced, one cache."""

import asyncio
from collections.abc import Sequence

from resolvers.batching import WHOLE_LEVELS, Loader


class Squares(Loader[int, int]):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[list[int]] = []

    async def batch_load_fn(self, keys: Sequence[int]) -> list[int]:
        self.calls.append(list(keys))
        return [k * k for k in keys]


async def test_per_object_loads_coalesce_into_one_batch():
    loader = Squares()
    assert await asyncio.gather(*(loader.load_many([k]) for k in (1, 2, 3, 2))) == [[1], [4], [9], [4]]
    assert loader.calls == [[1, 2, 3]]


async def test_a_whole_level_is_one_direct_call_and_shares_the_cache():
    loader = Squares()
    token = WHOLE_LEVELS.set(True)
    try:
        assert await loader.load_many([3, 1, 3, 2]) == [9, 1, 9, 4]
        assert await loader.load_many([2, 4]) == [4, 16]
    finally:
        WHOLE_LEVELS.reset(token)
    assert loader.calls == [[3, 1, 2], [4]]
    assert await loader.load(3) == 9  # the per-object path sees what the level read
    assert loader.calls == [[3, 1, 2], [4]]


async def test_prime_and_clear_apply_to_both_paths():
    loader = Squares()
    loader.prime(5, -1)
    assert await loader.load(5) == -1
    assert await loader.load_many([5]) == [-1]
    loader.clear(5)
    assert await loader.load_many([5]) == [25]
    loader.clear_all()
    token = WHOLE_LEVELS.set(True)
    try:
        assert await loader.load_many([5]) == [25]
    finally:
        WHOLE_LEVELS.reset(token)
    assert loader.calls == [[5], [5]]
