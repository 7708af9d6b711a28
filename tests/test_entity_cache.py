"""The entity cache's read-through: misses at the same moment share one read of the source."""

import asyncio

import pytest

from adapters.cached import _Entries


class Source:
    def __init__(self) -> None:
        self.reads: list[list[int]] = []
        self.gate = asyncio.Event()
        self.fail = False

    async def fetch(self, keys: list[int]) -> dict[int, str]:
        self.reads.append(list(keys))
        await self.gate.wait()
        if self.fail:
            raise ConnectionError("source down")
        return {k: f"v{k}" for k in keys if k != 404}


async def test_simultaneous_misses_share_one_read():
    entries, source = _Entries(ttl=60, max_entries=100), Source()
    first = asyncio.create_task(entries.read_through([1, 2, 3], source.fetch))
    second = asyncio.create_task(entries.read_through([2, 3, 4], source.fetch))
    await asyncio.sleep(0)
    source.gate.set()
    assert await first == ["v1", "v2", "v3"]
    assert await second == ["v2", "v3", "v4"]
    assert source.reads == [[1, 2, 3], [4]]  # 2 and 3 were read once, for both
    assert await entries.read_through([1, 4, 404], source.fetch) == ["v1", "v4", None]
    assert source.reads == [[1, 2, 3], [4], [404]]


async def test_when_the_shared_read_fails_the_joiner_reads_for_itself():
    entries, source = _Entries(ttl=60, max_entries=100), Source()
    source.fail = True
    first = asyncio.create_task(entries.read_through([1], source.fetch))
    second = asyncio.create_task(entries.read_through([1], source.fetch))
    await asyncio.sleep(0)
    source.gate.set()
    with pytest.raises(ConnectionError):
        await first
    with pytest.raises(ConnectionError):  # its own read, which failed too
        await second
    assert source.reads == [[1], [1]]
    source.fail = False
    assert await entries.read_through([1], source.fetch) == ["v1"]


async def test_a_cancelled_joiner_leaves_the_read_alone():
    entries, source = _Entries(ttl=60, max_entries=100), Source()
    first = asyncio.create_task(entries.read_through([1], source.fetch))
    second = asyncio.create_task(entries.read_through([1], source.fetch))
    await asyncio.sleep(0)
    second.cancel()
    await asyncio.sleep(0)
    source.gate.set()
    assert await first == ["v1"]
    assert second.cancelled()


async def test_reads_after_a_change_do_not_join_a_read_that_predates_it():
    entries, source = _Entries(ttl=60, max_entries=100), Source()
    before = asyncio.create_task(entries.read_through([1], source.fetch))
    await asyncio.sleep(0)
    entries.forget([1])
    after = asyncio.create_task(entries.read_through([1], source.fetch))
    await asyncio.sleep(0)
    source.gate.set()
    await asyncio.gather(before, after)
    assert source.reads == [[1], [1]]
