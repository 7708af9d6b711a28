"""Where the time goes, in this process and without a network: the SQL alone, the gateway's data
layer, GraphQL execution, serialization; and how many SQL statements one request sends."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench import execution
from bench.baseline import build_response, fetch_rows
from bench.harness import app, context_factory, interleaved_ms, median_ms, median_ms_sync
from bench.listing import PAGE_SIZE, gateway_variants, listing_body, listing_query
from resolvers import catalog, inventory, locations
from resolvers.pagination import PageArgs

JSON_HEADERS = {"content-type": "application/json", "accept": "application/json"}
PAGE_SIZES = (5, PAGE_SIZE, 200)  # statements per request must not grow with the page


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    ms: float | None
    note: str = ""
    key: str = ""  # for the targets table: sql, data_layer, compiled, orjson, request


@dataclass(frozen=True, slots=True)
class InProcess:
    runs: int
    statements: dict[str, dict[int, int]]  # variant -> page size -> SQL statements per request
    steps: list[Step]
    execution: execution.Execution | None = None
    work: str = "gateway-nocache"  # the variant the breakdown steps ran on

    def ms(self, key: str) -> float | None:
        return next((s.ms for s in self.steps if s.key == key), None)


async def _data_layer(ctx: Any) -> None:
    """The listing's reads through the use cases and DataLoaders, records only, no GraphQL."""
    page = await catalog.products(ctx, PageArgs(first=PAGE_SIZE))
    per_product = await catalog.variants_of_products(ctx, [p.id for p in page.nodes])
    variant_ids = [v.id for variants in per_product for v in variants]
    levels = await inventory.levels_of_variants(ctx, variant_ids)
    await locations.locations_of_levels(ctx, [lv for per_variant in levels for lv in per_variant])


@asynccontextmanager
async def _client(asgi_app: Any) -> AsyncIterator[Callable[..., Awaitable[None]]]:
    """POST the listing through the app's own /graphql endpoint (whichever path it takes),
    minus the network."""
    transport = httpx.ASGITransport(app=asgi_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

        async def post(first: int = PAGE_SIZE, check: bool = False) -> None:
            answer = await client.post("/graphql", content=listing_body(first), headers=JSON_HEADERS)
            if check and (answer.status_code != 200 or "errors" in answer.json()):
                raise RuntimeError(f"gateway answered {answer.status_code}: {answer.text[:500]}")

        yield post


async def _statements(asgi_app: Any, post: Callable[..., Awaitable[None]]) -> dict[int, int]:
    """SQL statements of a repeat request (plans, caches and pools warm) for each page size."""
    store = asgi_app.state.gateway.store
    statements = {}
    for first in PAGE_SIZES:
        await post(first, check=True)
        before = store.statements
        await post(first)
        statements[first] = store.statements - before
    return statements


async def _variants_over_asgi(data_dir: Path, runs: int, done: str) -> tuple[dict[str, Any], list[Step]]:
    """The whole request and its statements for the other variants of the gateway (with caches)."""
    statements: dict[str, Any] = {}
    steps = []
    for name, settings in gateway_variants().items():
        if name in (done, "gateway-standard"):
            continue  # measured in `measure` (the standard executor by schema.execute)
        asgi_app = app(data_dir, settings)
        async with asgi_app.router.lifespan_context(asgi_app), _client(asgi_app) as post:
            statements[name] = await _statements(asgi_app, post)
            ms = await median_ms(runs, post)
        steps.append(Step(f"whole POST /graphql through the ASGI app ({name})", ms))
    return statements, steps


def _step(name: str, value: float | str, key: str = "") -> Step:
    return Step(name, value, "", key) if isinstance(value, float) else Step(name, None, value, key)


async def measure(data_dir: Path, runs: int) -> InProcess:
    # Every step does the work: the gateway's caches, if any, are off (measured on their own at the end).
    work = "gateway-nocache" if "gateway-nocache" in gateway_variants() else "gateway"
    asgi_app = app(data_dir, gateway_variants()[work])
    gateway = asgi_app.state.gateway
    context = context_factory(asgi_app)
    query = listing_query()

    async def raw_sql() -> Any:
        async with gateway.store.engine.connect() as conn:
            return await fetch_rows(conn)

    async def data_layer() -> None:
        await _data_layer(await context())

    async def execute() -> Any:
        result = await gateway.schema.execute(query, context_value=await context())
        if result.errors:
            raise RuntimeError(f"listing query failed: {result.errors}")
        return result.data

    async def compiled() -> Any:
        return await execution.compiled_data(gateway, query, await context())

    async with asgi_app.router.lifespan_context(asgi_app), _client(asgi_app) as post:
        counted = await _statements(asgi_app, post)
        rows = await raw_sql()
        data = await execute()
        if {"data": data} != build_response(rows):
            raise SystemExit("bench: ABORT: the gateway's data differs from the baseline's (in process)")
        try:
            same = await compiled() == data
        except Exception:
            same = True  # not in this version: interleaved_ms reports why
        # The parts of one request, taking turns so that their shares of the whole hold.
        parts = await interleaved_ms(
            runs, {"sql": raw_sql, "data": data_layer, "compiled": compiled, "request": post}
        )
        compiled_step = _step(
            "compiled executor (gateway.compiled, includes the SQL)", parts["compiled"], "compiled"
        )
        if not same:
            compiled_step = Step(compiled_step.name, None, "its data DIFFERS from schema.execute's")
        steps = [
            _step("4 SQL queries alone (SQLAlchemy Core rows)", parts["sql"], "sql"),
            Step(
                "hand-written response dict from those rows",
                median_ms_sync(runs, lambda: build_response(rows)),
            ),
            _step("gateway data layer: use cases + DataLoaders -> records", parts["data"], "data"),
            compiled_step,
            Step("schema.execute (strawberry, includes the SQL)", await median_ms(runs, execute)),
            Step(
                "orjson.dumps of the result",
                median_ms_sync(runs * 10, lambda: orjson.dumps(data)),
                "",
                "orjson",
            ),
            Step("json.dumps of the result", median_ms_sync(runs * 10, lambda: json.dumps(data))),
            _step(f"whole POST /graphql through the ASGI app ({work})", parts["request"], "request"),
        ]
    statements, cached_steps = await _variants_over_asgi(data_dir, runs, work)
    return InProcess(
        runs=runs,
        statements={work: counted, **statements},
        steps=steps + cached_steps,
        execution=await execution.measure(data_dir, runs),
        work=work,
    )
