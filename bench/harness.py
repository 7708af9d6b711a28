"""What the in-process measurements share: the gateway app built in this process, the request an
anonymous POST /graphql makes, and medians of repeated runs."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.authentication import AuthCredentials
from starlette.requests import Request

from gateway.app import create_app
from gateway.settings import Settings
from gateway.transport.view import GatewayGraphQL
from resolvers.principal import ANONYMOUS


async def median_ms(runs: int, fn: Callable[[], Awaitable[Any]]) -> float:
    await fn()  # once unmeasured: pools, caches and lazy imports warm up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


async def interleaved_ms(runs: int, steps: dict[str, Callable[[], Awaitable[Any]]]) -> dict[str, float | str]:
    """Median ms of each step, the steps taking turns run after run, so that the machine getting
    busier or quieter hits them alike and their shares of a whole stay comparable. A step that
    fails is left out from then on, its value the error's text."""
    results: dict[str, float | str] = {}
    times: dict[str, list[float]] = {name: [] for name in steps}
    for run in range(runs + 1):  # the first run unmeasured: pools, caches and lazy imports warm up
        for name, fn in steps.items():
            if name in results:
                continue
            started = time.perf_counter()
            try:
                await fn()
            except Exception as exc:
                results[name] = f"n/a: {type(exc).__name__}: {exc}"
                continue
            if run:
                times[name].append(time.perf_counter() - started)
    for name, measured in times.items():
        if name not in results:
            results[name] = statistics.median(measured) * 1000
    return results


def median_ms_sync(runs: int, fn: Callable[[], Any]) -> float:
    fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def app(data_dir: Path, settings: dict[str, str]) -> Any:
    """The gateway's ASGI app on the bench database; settings this version lacks are ignored."""
    options: dict[str, Any] = {"data_dir": data_dir, "seed_demo": False, "log_level": "warning", **settings}
    return create_app(Settings(**options))


def anonymous_request(asgi_app: Any) -> Request:
    # What the middlewares leave in the scope of an anonymous POST /graphql.
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/graphql",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json")],
        "app": asgi_app,
        "user": ANONYMOUS,
        "auth": AuthCredentials(),
        "state": {"request_id": "bench-in-process"},
    }
    return Request(scope)


def context_factory(asgi_app: Any) -> Callable[[], Awaitable[Any]]:
    """A new request Context each call (fresh DataLoaders), built the way the endpoint builds it."""
    view = GatewayGraphQL(asgi_app.state.gateway)

    async def context() -> Any:
        return await view.get_context(anonymous_request(asgi_app), None)

    return context
