"""/healthz says the process is up; /readyz says whether its database answers, and how each
upstream is doing without making a degraded gateway unready."""

import os

import httpx

from gateway.app import create_app
from tests.conftest import make_settings


async def test_healthz_and_readyz(api):
    assert (await api.client.get("/healthz")).json() == {"status": "ok", "process": os.getpid()}
    ready = await api.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"


async def test_readyz_is_503_when_the_database_is_gone():
    # A server that refuses connections: the app must still answer, and say it is not ready.
    app = create_app(make_settings("postgresql+asyncpg://nobody@127.0.0.1:9/none"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        assert (await client.get("/healthz")).status_code == 200
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "database": "unreachable", "upstreams": {}}
    await app.state.gateway.stop()


async def test_readyz_reports_each_upstream_and_stays_ready_while_it_is_down(make_api):
    from adapters.memory import connect as connect_memory
    from adapters.resilience import ResiliencePolicy
    from tests.test_resilience import memory_data

    upstream = connect_memory(memory_data(), ResiliencePolicy(read_retries=0, breaker_threshold=2))
    api = await make_api(upstreams={"memory": upstream}, catalog="memory", inventory="memory")
    ready = (await api.client.get("/readyz")).json()
    memory = ready["upstreams"]["memory"]
    assert memory["roles"] == ["catalog", "inventory"]
    assert memory["feeds"]["catalog"]["syncedAt"] is None  # never synchronised: stale
    assert ready["status"] == "degraded"
    await api.gateway.sync.run_once()
    response = await api.client.get("/readyz")
    assert response.status_code == 200
    ready = response.json()
    memory = ready["upstreams"]["memory"]
    assert ready["status"] == "ok"
    assert (memory["available"], memory["circuit"], memory["lastError"]) == (True, "closed", None)
    assert memory["lastSuccess"] is not None
    assert set(memory["feeds"]) == {"catalog", "inventory"}
    assert all(f["lagSeconds"] >= 0 and not f["stale"] for f in memory["feeds"].values())

    upstream.data.down = True
    for _ in range(2):
        await api.gateway.sync.run_once()
    response = await api.client.get("/readyz")
    assert response.status_code == 200  # the read model still serves: degraded, not unready
    ready = response.json()
    memory = ready["upstreams"]["memory"]
    assert (ready["status"], ready["database"]) == ("degraded", "ok")
    assert (memory["available"], memory["circuit"]) == (False, "opened")
    assert memory["lastError"] == "memory upstream is down"
    assert all(f["stale"] and f["lastError"] for f in memory["feeds"].values())
