"""The security review's findings where the transport matters (issue 15), against a real
`omnigate serve` (uvicorn with httptools) or the real CLI: header limits (3), forwarded addresses
(5), secrets in the access log, in `omnigate migrate` and in settings errors (8), and /metrics on
a port of its own (12)."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

from tests.conftest import SqliteTemplates
from tests.served import serve
from tests.servers import OMNIGATE, free_port

TYPENAME = "{ __typename }"


async def _post(base: str, headers: dict[str, str] | list[tuple[str, str]] | None = None) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        return await client.post("/graphql", json={"query": TYPENAME}, headers=headers)


# --- 3. Header limits: 431 before the application runs ---


async def test_oversized_or_too_many_headers_get_431(tmp_path: Path, sqlite_templates: SqliteTemplates):
    url = await sqlite_templates.clone()
    async with serve(tmp_path, url, GATEWAY_MAX_HEADER_BYTES="16384", GATEWAY_MAX_HEADERS="50") as served:
        assert (await _post(served.base)).status_code == 200
        one_big = await _post(served.base, {"X-Padding": "x" * (1 << 20)})
        assert one_big.status_code == 431
        assert one_big.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        many = await _post(served.base, [(f"X-Header-{n}", "1") for n in range(100)])
        assert many.status_code == 431
        # Just under both limits is still served.
        fine = await _post(served.base, [(f"X-Header-{n}", "y" * 200) for n in range(40)])
        assert fine.status_code == 200
        # A websocket upgrade over them is refused before the handshake (a line over 8 KiB, or
        # over 128 headers, the websockets package refuses itself, with 431).
        with pytest.raises(InvalidStatus) as refused:
            async with connect(served.ws_url, additional_headers=[(f"X-H-{n}", "1") for n in range(60)]):
                pass
        assert refused.value.response.status_code == 403
        async with connect(served.ws_url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
            await ws.send('{"type": "connection_init"}')
            assert "connection_ack" in await ws.recv()


# --- 5. Forwarded headers: trusted only from the proxies the operator names ---


async def _statuses(base: str, forwarded_for: list[str]) -> list[int]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        answers = [
            await client.post("/graphql", json={"query": TYPENAME}, headers={"X-Forwarded-For": address})
            for address in forwarded_for
        ]
    return [a.status_code for a in answers]


async def test_forwarded_addresses_count_only_from_proxies_the_operator_names(
    tmp_path: Path, sqlite_templates: SqliteTemplates
):
    made_up = [f"203.0.113.{n}" for n in range(6)]
    limit = {"GATEWAY_RATE_LIMIT_ANONYMOUS": "3", "GATEWAY_RATE_LIMIT_PERIOD_SECONDS": "3600"}
    # By default no proxy is trusted: a client on this host that makes up addresses is still one
    # client, whatever uvicorn trusts from loopback on its own.
    async with serve(tmp_path, await sqlite_templates.clone(), **limit) as served:
        assert (await _statuses(served.base, made_up)).count(429) == 3
    # Behind a proxy the operator names, each forwarded client has its own bucket.
    flag = ["--forwarded-allow-ips", "127.0.0.1"]
    async with serve(tmp_path, await sqlite_templates.clone(), args=flag, **limit) as served:
        assert await _statuses(served.base, made_up) == [200] * 6
        assert (await _statuses(served.base, ["198.51.100.7"] * 4)).count(429) == 1
    async with serve(
        tmp_path, await sqlite_templates.clone(), GATEWAY_FORWARDED_ALLOW_IPS="127.0.0.1", **limit
    ) as served:
        assert await _statuses(served.base, made_up) == [200] * 6


# --- 8. Secrets out of logs: the access log, `omnigate migrate`, settings errors ---


async def test_the_access_log_records_no_query_strings(tmp_path: Path, sqlite_templates: SqliteTemplates):
    log = tmp_path / "gateway.log"
    secret_cart = "Q2FydDpzM2NyZXQtY2FydC10b2tlbi1vZi00My1jaGFyYWN0ZXJzLWxvbmctLTEyMzQ1"
    with log.open("wb") as sink:
        async with serve(
            tmp_path, await sqlite_templates.clone(), stderr=sink, GATEWAY_LOG_LEVEL="info"
        ) as served:
            login = 'mutation { memberLogin(email: "a@example.com", password: "s3cret-password") { token } }'
            async with httpx.AsyncClient(base_url=served.base, timeout=30) as client:
                assert (await client.get("/graphql", params={"query": login})).status_code == 405
                cart = f'{{ cart(id: "{secret_cart}") {{ id }} }}'
                assert (await client.get("/graphql", params={"query": cart})).status_code == 200
            await asyncio.sleep(0.5)  # the access log is written after the response
    text = log.read_text()
    assert "GET /graphql" in text  # the access log is on, and it names the path
    assert "s3cret-password" not in text
    assert secret_cart not in text


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "GATEWAY_LOG_LEVEL": "info", **env}
    return subprocess.run([*OMNIGATE, *args], env=environment, capture_output=True, text=True, timeout=120)


@pytest.mark.postgresql
async def test_migrate_prints_no_database_password(postgresql_templates):
    url = await postgresql_templates.clone()  # postgresql+asyncpg://postgres@host:port/name
    with_password = url.replace("postgres@", "postgres:s3cret-in-userinfo@")
    for database_url in (f"{url}?password=s3cret-in-query", with_password):
        done = _cli("migrate", GATEWAY_DATABASE_URL=database_url)
        assert done.returncode == 0, done.stderr
        assert "migrate: done" in done.stdout
        assert "s3cret" not in done.stdout + done.stderr


def test_settings_errors_print_no_tokens(tmp_path: Path):
    for name, value in [
        ("GATEWAY_STAFF_TOKENS", '[{"token": "s3cret-staff-token", "subject": "staff:x"}]'),
        ("GATEWAY_STAFF_TOKENS", '[{"token": "s3cret-staff-token", "subject": "x", "location_ids": 1}]'),
        ("GATEWAY_MEMBER_TOKENS", '[{"token": "s3cret-member-token"}]'),
        ("GATEWAY_STAFF_TOKENS", '[{"token": "s3cret-staff-token", "subject": "x"'),  # not JSON
    ]:
        refused = _cli("migrate", GATEWAY_DATA_DIR=str(tmp_path), **{name: value})
        assert refused.returncode != 0
        assert "s3cret" not in refused.stdout + refused.stderr, refused.stderr
        assert "staff_tokens" in refused.stderr or "member_tokens" in refused.stderr
        assert "Traceback" not in refused.stderr


# --- 12. /metrics on a port of its own ---


async def test_metrics_can_be_served_on_their_own_port(tmp_path: Path, sqlite_templates: SqliteTemplates):
    port = free_port()
    async with serve(tmp_path, await sqlite_templates.clone(), GATEWAY_METRICS_PORT=str(port)) as served:
        assert (await served.http.get("/metrics")).status_code == 404  # not on the API's port
        async with httpx.AsyncClient(timeout=10) as client:
            scraped = await client.get(f"http://127.0.0.1:{port}/metrics")
        assert scraped.status_code == 200
        assert "omnigate_active_subscriptions" in scraped.text
