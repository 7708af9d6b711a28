"""/healthz says the process is up; /readyz says whether its database answers."""

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
    assert ready.json() == {"status": "unavailable", "database": "unreachable"}
    await app.state.gateway.stop()
