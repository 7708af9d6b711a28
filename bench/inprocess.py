"""Where the time goes, in this process and without a network: the SQL alone, the gateway's data
layer, GraphQL execution, serialization; and how many SQL statements one request sends."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
from starlette.authentication import AuthCredentials
from starlette.requests import Request

from bench.baseline import build_response, fetch_rows
from bench.listing import PAGE_SIZE, gateway_variants, listing_body, listing_query
from gateway.app import GatewayGraphQL, create_app
from gateway.settings import Settings
from resolvers import catalog, inventory, locations
from resolvers.pagination import PageArgs
from resolvers.principal import ANONYMOUS

JSON_HEADERS = {"content-type": "application/json", "accept": "application/json"}


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    ms: float | None
    note: str = ""


@dataclass(frozen=True, slots=True)
class InProcess:
    runs: int
    statements: dict[str, int]  # which request -> SQL statements it sent
    steps: list[Step]


async def _median_ms(runs: int, fn: Callable[[], Awaitable[Any]]) -> float:
    await fn()  # once unmeasured: pools, caches and lazy imports warm up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _median_ms_sync(runs: int, fn: Callable[[], Any]) -> float:
    fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _request(app: Any) -> Request:
    # What the middlewares leave in the scope of an anonymous POST /graphql.
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/graphql",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json")],
        "app": app,
        "user": ANONYMOUS,
        "auth": AuthCredentials(),
        "state": {"request_id": "bench-in-process"},
    }
    return Request(scope)


async def _data_layer(ctx: Any) -> None:
    """The listing's reads through the use cases and DataLoaders, records only, no GraphQL."""
    page = await catalog.products(ctx, PageArgs(first=PAGE_SIZE))
    per_product = await catalog.variants_of_products(ctx, [p.id for p in page.nodes])
    variant_ids = [v.id for variants in per_product for v in variants]
    levels = await inventory.levels_of_variants(ctx, variant_ids)
    await locations.locations_of_levels(ctx, [lv for per_variant in levels for lv in per_variant])


async def _optional(name: str, runs: int, fn: Callable[[], Awaitable[Any]]) -> Step:
    # The gateway changes under this bench: a step that no longer fits is reported, not fatal.
    try:
        return Step(name, await _median_ms(runs, fn))
    except Exception as exc:
        return Step(name, None, f"n/a: {type(exc).__name__}: {exc}")


async def _over_asgi(app: Any, runs: int, label: str) -> tuple[dict[str, int], float]:
    """Statements per request (page of 5 and of 50), and the whole request's time, through the app's
    own /graphql endpoint (whichever path it takes), minus the network."""
    store = app.state.gateway.store
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

        async def post(first: int = PAGE_SIZE, check: bool = False) -> None:
            answer = await client.post("/graphql", content=listing_body(first), headers=JSON_HEADERS)
            if check and (answer.status_code != 200 or "errors" in answer.json()):
                raise RuntimeError(f"gateway answered {answer.status_code}: {answer.text[:500]}")

        statements = {}
        for first in (5, PAGE_SIZE):
            await post(first, check=True)  # warm: plans, caches and pools for this page size
            before = store.statements
            await post(first)
            statements[f"{label}, first: {first}"] = store.statements - before
        return statements, await _median_ms(runs, post)


def _app(data_dir: Path, settings: dict[str, str]) -> Any:
    options: dict[str, Any] = {"data_dir": data_dir, "seed_demo": False, "log_level": "warning", **settings}
    return create_app(Settings(**options))


async def _variants_over_asgi(data_dir: Path, runs: int, done: str) -> tuple[dict[str, int], list[Step]]:
    """The whole request and its statements for the other variants of the gateway (with caches)."""
    statements: dict[str, int] = {}
    steps = []
    for name, settings in gateway_variants().items():
        if name in (done, "gateway-standard"):
            continue  # measured in `measure` (the standard executor by schema.execute)
        app = _app(data_dir, settings)
        async with app.router.lifespan_context(app):
            counted, ms = await _over_asgi(app, runs, name)
        statements |= counted
        steps.append(Step(f"whole POST /graphql through the ASGI app ({name})", ms))
    return statements, steps


async def measure(data_dir: Path, runs: int) -> InProcess:
    # Every step does the work: the gateway's caches, if any, are off (measured on their own at the end).
    work = "gateway-nocache" if "gateway-nocache" in gateway_variants() else "gateway"
    app = _app(data_dir, gateway_variants()[work])
    gateway = app.state.gateway
    view = GatewayGraphQL(gateway)  # its get_context builds the Context each request gets
    query = listing_query()

    async def context() -> Any:
        return await view.get_context(_request(app), None)

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

    async with app.router.lifespan_context(app):
        statements, asgi_ms = await _over_asgi(app, runs, work)
        rows = await raw_sql()
        data = await execute()
        if {"data": data} != build_response(rows):
            raise SystemExit("bench: ABORT: the gateway's data differs from the baseline's (in process)")
        steps = [
            Step("4 SQL queries alone (SQLAlchemy Core rows)", await _median_ms(runs, raw_sql)),
            Step(
                "hand-written response dict from those rows",
                _median_ms_sync(runs, lambda: build_response(rows)),
            ),
            await _optional("gateway data layer: use cases + DataLoaders -> records", runs, data_layer),
            await _compiled_step(gateway, query, context, data, runs),
            Step("schema.execute (strawberry, includes the SQL)", await _median_ms(runs, execute)),
            Step("orjson.dumps of the result", _median_ms_sync(runs * 10, lambda: orjson.dumps(data))),
            Step("json.dumps of the result", _median_ms_sync(runs * 10, lambda: json.dumps(data))),
            Step(f"whole POST /graphql through the ASGI app ({work})", asgi_ms),
        ]
    cached_statements, cached_steps = await _variants_over_asgi(data_dir, runs, work)
    return InProcess(runs=runs, statements=statements | cached_statements, steps=steps + cached_steps)


async def _compiled_step(
    gateway: Any, query: str, context: Callable[[], Awaitable[Any]], data: Any, runs: int
) -> Step:
    """The gateway's compiled executor, when this version has one."""
    name = "compiled executor (gateway.compiled, includes the SQL)"
    compiled, documents = getattr(gateway, "compiled", None), getattr(gateway, "documents", None)
    if compiled is None or documents is None:
        return Step(name, None, "n/a: not in this version or switched off")
    node = documents.get(query).node

    async def run() -> Any:
        answer = await compiled.execute(node, None, None, await context())
        if answer is None:
            raise RuntimeError("it fell back to the standard executor")
        return getattr(answer, "data", answer)  # newer versions wrap the data in a result

    try:
        if await run() != data:
            return Step(name, None, "its data DIFFERS from schema.execute's")
    except Exception as exc:
        return Step(name, None, f"n/a: {type(exc).__name__}: {exc}")
    return await _optional(name, runs, run)
