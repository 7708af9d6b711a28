"""Batch resolvers: a field's values for many parents in one call.

`@strawberry.field(metadata=batch(fn))` declares that `fn(ctx, parents, **kwargs)` returns the
field's value for each parent, in order, with the same keyword arguments the field's resolver
takes. The compiled executor calls it once per level; the field's own resolver calls it for one
parent (`one(fn, info, root, ...)`), so both paths share one implementation and DataLoaders
still batch the standard executor's per-object calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from strawberry.types import Info

from resolvers.batching import WHOLE_LEVELS

BatchResolver = Callable[..., Awaitable[list[Any]]]


def batch(fn: BatchResolver, *, depends: tuple[str, ...] = ()) -> dict[str, Any]:
    """`depends` names the event topics the field's values change with, beyond its type's."""
    return {"omnigate.batch": fn, "omnigate.depends": depends}


# Topics of the events that make public answers stale (see gateway/caching/response_cache.py). A type
# with `cache_topics` is public: its answers are the same for every caller and may be cached.
CATALOG = frozenset({"catalog"})
STOCK = frozenset({"stock"})
LOCATIONS = frozenset({"locations"})
NO_TOPICS: frozenset[str] = frozenset()


async def one(fn: BatchResolver, info: Info, root: Any, **kwargs: Any) -> Any:
    return (await fn(info.context, [root], **kwargs))[0]


def each(fn: Callable[..., Awaitable[Any]]) -> BatchResolver:
    """A batch resolver made of a per-parent use case `fn(ctx, parent, **kwargs)`: every parent's
    call starts at once, so the DataLoaders they go through batch them (a round trip per loader
    for the whole level, whatever the number of parents). Each call asks for its own keys only,
    so the loaders must wait for the others' (WHOLE_LEVELS off) rather than go straight to SQL."""

    async def resolve(ctx: Any, parents: list[Any], **kwargs: Any) -> list[Any]:
        if len(parents) == 1:
            return [await fn(ctx, parents[0], **kwargs)]
        whole = WHOLE_LEVELS.set(False)  # the tasks below copy the context as it is now
        try:
            calls = [asyncio.ensure_future(fn(ctx, parent, **kwargs)) for parent in parents]
        finally:
            WHOLE_LEVELS.reset(whole)
        return list(await asyncio.gather(*calls))

    return resolve
