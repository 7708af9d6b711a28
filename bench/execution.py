"""Execution alone: the gateway's compiled executor vs graphql-core's `execute` on the same schema
(`gateway.schema._schema`), the same parsed and validated listing document, the same resolvers
and the same warm data source (the entity cache, kept warm for the whole measurement)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import execute

from bench import harness
from bench.listing import listing_query

# Entity cache on, response cache off; TTLs long enough that nothing expires while graphql-core
# runs (the default stock TTL is 5 s, shorter than this measurement).
WARM = {
    "response_cache": "false",
    "entity_cache": "true",
    "entity_cache_stock_ttl_seconds": "3600",
    "entity_cache_catalog_ttl_seconds": "3600",
}
TARGET = 1 / 8  # the target: the gateway's time at most 1/8 of graphql-core's


@dataclass(frozen=True, slots=True)
class Execution:
    runs: int
    compiled_ms: float | None
    graphql_core_ms: float | None
    statements: dict[str, int]  # SQL statements per execution, by executor
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.compiled_ms is None or not self.graphql_core_ms:
            return None
        return self.compiled_ms / self.graphql_core_ms


async def compiled_data(gateway: Any, query: str, context: Any) -> Any:
    """The compiled executor's data for `query`, or raises when this version cannot give it."""
    compiled, documents = getattr(gateway, "compiled", None), getattr(gateway, "documents", None)
    if compiled is None or documents is None:
        raise LookupError("no compiled executor in this version, or switched off")
    answer = await compiled.execute(documents.get(query).node, None, None, context)
    if answer is None:
        raise RuntimeError("it fell back to the standard executor")
    return getattr(answer, "data", answer)  # newer versions wrap the data in a result


async def _statements(gateway: Any, fn: Callable[[], Awaitable[Any]]) -> int:
    before = gateway.store.statements
    await fn()
    return int(gateway.store.statements - before)


async def measure(data_dir: Path, runs: int) -> Execution:
    asgi_app = harness.app(data_dir, WARM)
    gateway = asgi_app.state.gateway
    context = harness.context_factory(asgi_app)
    query = listing_query()
    node = gateway.documents.get(query).node

    async def compiled() -> Any:
        return await compiled_data(gateway, query, await context())

    async def graphql_core() -> Any:
        result = await execute(gateway.schema._schema, node, context_value=await context())
        if result.errors:
            raise RuntimeError(f"graphql-core: {result.errors[0]}")
        return result.data

    async with asgi_app.router.lifespan_context(asgi_app):
        try:
            data = await compiled()  # fills the entity cache
        except Exception as exc:
            return Execution(runs, None, None, {}, f"n/a: {type(exc).__name__}: {exc}")
        if await graphql_core() != data:
            return Execution(runs, None, None, {}, "graphql-core's data DIFFERS from the compiled path's")
        statements = {
            "compiled": await _statements(gateway, compiled),
            "graphql-core": await _statements(gateway, graphql_core),
        }
        compiled_ms = await harness.median_ms(runs, compiled)
        core_ms = await harness.median_ms(runs, graphql_core)
    return Execution(runs, compiled_ms, core_ms, statements)
