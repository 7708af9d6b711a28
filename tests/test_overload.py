"""Load shedding: past `GATEWAY_MAX_CONCURRENT_REQUESTS` a request waits at most
`GATEWAY_OVERLOAD_QUEUE_SECONDS` for a slot, then gets 503 + Retry-After with a GraphQL error;
health checks and metrics are never shed. Requests are held on an event, so the counts do not
depend on timing."""

from __future__ import annotations

import asyncio

from tests.conftest import make_settings, serving

QUERY = {"query": "{ products(first: 1) { nodes { id } } }"}


async def held_gateway(sqlite_templates, **overrides):
    """A gateway whose requests wait for `gate` once they hold a slot (in authentication,
    which runs inside the load-shedding middleware)."""
    settings = make_settings(await sqlite_templates.clone(), **overrides)
    return serving(settings)


def hold(api, gate: asyncio.Event) -> list[int]:
    entered: list[int] = []
    authenticate = api.gateway.auth.authenticate

    async def held(conn):
        if conn.url.path == "/graphql":
            entered.append(1)
            await gate.wait()
        return await authenticate(conn)

    api.gateway.auth.authenticate = held
    return entered


async def until(condition) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("never happened")


async def test_past_capacity_requests_are_shed_with_503_and_retry_after(sqlite_templates):
    async with await held_gateway(
        sqlite_templates, max_concurrent_requests=2, overload_queue_seconds=0, metrics=True
    ) as api:
        gate = asyncio.Event()
        entered = hold(api, gate)
        running = [asyncio.create_task(api.client.post("/graphql", json=QUERY)) for _ in range(2)]
        await until(lambda: len(entered) == 2)  # both slots taken

        refused = [await api.client.post("/graphql", json=QUERY) for _ in range(3)]
        assert [r.status_code for r in refused] == [503] * 3
        assert refused[0].headers["retry-after"] == "1"
        assert refused[0].headers["x-request-id"]
        [error] = refused[0].json()["errors"]
        assert error["extensions"] == {"code": "UPSTREAM_UNAVAILABLE", "reason": "OVERLOADED"}
        assert len(entered) == 2  # a refused request never reached the app
        for path in ("/healthz", "/readyz", "/metrics"):
            assert (await api.client.get(path)).status_code == 200, path
        assert api.gateway.capacity.shed == 3
        assert "omnigate_requests_shed_total 3.0" in (await api.client.get("/metrics")).text

        gate.set()
        assert [(await r).status_code for r in running] == [200, 200]
        assert (await api.client.post("/graphql", json=QUERY)).status_code == 200  # slots given back


async def test_a_request_waits_in_line_for_a_slot_up_to_the_queue_time(sqlite_templates):
    async with await held_gateway(
        sqlite_templates, max_concurrent_requests=1, overload_queue_seconds=30
    ) as api:
        gate = asyncio.Event()
        entered = hold(api, gate)
        first = asyncio.create_task(api.client.post("/graphql", json=QUERY))
        await until(lambda: len(entered) == 1)
        waiting = asyncio.create_task(api.client.post("/graphql", json=QUERY))
        await asyncio.sleep(0.05)
        assert len(entered) == 1 and not waiting.done()  # in line, not refused
        gate.set()
        assert (await first).status_code == 200
        assert (await waiting).status_code == 200
        assert api.gateway.capacity.shed == 0


async def test_no_limit_when_turned_off(sqlite_templates):
    async with await held_gateway(sqlite_templates, max_concurrent_requests=0) as api:
        gate = asyncio.Event()
        entered = hold(api, gate)
        running = [asyncio.create_task(api.client.post("/graphql", json=QUERY)) for _ in range(5)]
        await until(lambda: len(entered) == 5)
        gate.set()
        assert [(await r).status_code for r in running] == [200] * 5
