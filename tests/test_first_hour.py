"""The first hour, as a new user meets it: sign-in works on the embedded default, a bad database
URL or a busy port is one clear line, logs read well on a terminal, `/` says where the API is, and
`--help` tells the truth. Through the CLI (subprocesses) and the ASGI app."""

from __future__ import annotations

import json
import os
import pty
import socket
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.settings import Settings
from resolvers.principal import Scope
from tests.servers import OMNIGATE

LOGIN = """mutation { memberLogin(email: "ana@example.com", password: "omnigate-demo") {
  token member { email } userErrors { code message } } }"""
ME = "{ me { email } }"


def env_for(data_dir: Path, **settings: str) -> dict[str, str]:
    """The caller's environment without any GATEWAY_* setting: a new user's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    return {**env, "GATEWAY_DATA_DIR": str(data_dir), **settings}


def omnigate(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*OMNIGATE, *args], env=env, capture_output=True, text=True, timeout=timeout)


@asynccontextmanager
async def app_on(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            yield client


async def post(client: httpx.AsyncClient, query: str, token: str | None = None) -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return (await client.post("/graphql", json={"query": query}, headers=headers)).json()


# --- sign-in on the embedded default ---


async def test_member_login_works_on_the_embedded_default_and_the_key_is_kept(tmp_path: Path):
    settings = Settings(_env_file=None, data_dir=tmp_path)  # no database, no secret: the defaults
    assert settings.jwt_secret is None and settings.dev_mode
    async with app_on(settings) as client:
        body = await post(client, LOGIN)
        login = body["data"]["memberLogin"]
        assert login["userErrors"] == [] and login["member"]["email"] == "ana@example.com", body
        token = login["token"]
        assert (await post(client, ME, token))["data"]["me"]["email"] == "ana@example.com"
    key = tmp_path / "jwt-secret"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    kept = key.read_text()
    # A restart signs with the same key: the token a member holds still works.
    async with app_on(Settings(_env_file=None, data_dir=tmp_path)) as client:
        assert (await post(client, ME, token))["data"]["me"]["email"] == "ana@example.com"
    assert key.read_text() == kept


async def test_production_mode_makes_no_key_and_the_error_names_the_setting(tmp_path: Path):
    settings = Settings(_env_file=None, data_dir=tmp_path, dev=False, seed_demo=True)
    async with app_on(settings) as client:
        login = (await post(client, LOGIN))["data"]["memberLogin"]
    assert login["token"] is None
    [error] = login["userErrors"]
    assert error["code"] == "SIGN_IN_UNAVAILABLE" and "GATEWAY_JWT_SECRET" in error["message"]
    assert not (tmp_path / "jwt-secret").exists()


def test_the_cli_signs_with_the_same_kept_key(tmp_path: Path):
    env = env_for(tmp_path)
    assert omnigate("seed", env=env).returncode == 0
    out = omnigate("token", "member", "ana@example.com", env=env)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "jwt-secret").exists() and out.stdout.count(".") == 2


# --- a bad GATEWAY_DATABASE_URL ---

BAD_URLS = {
    "postgres-scheme": ("postgres://shop:s3cret-pw@127.0.0.1:5432/shop", "postgresql+asyncpg://"),
    "mysql": ("mysql://shop:s3cret-pw@127.0.0.1/shop", "does not support"),
    "garbage": ("not a url s3cret-pw", "not a database URL"),
    "sync-driver": ("postgresql://shop:s3cret-pw@127.0.0.1:5432/shop", "postgresql+asyncpg://"),
}


def refused_port() -> int:
    with socket.socket() as s:  # bound, never listening: connections to it are refused
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def assert_one_clear_line(out: subprocess.CompletedProcess[str], *words: str) -> None:
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert "Traceback" not in out.stderr and "s3cret-pw" not in out.stderr
    assert "GATEWAY_DATABASE_URL" in lines[0], lines[0]
    for word in words:
        assert word in lines[0], lines[0]


@pytest.mark.parametrize("case", list(BAD_URLS))
def test_a_malformed_database_url_is_one_line(tmp_path: Path, case: str):
    url, says = BAD_URLS[case]
    for command in (["migrate"], ["serve", "--port", "0"]):
        assert_one_clear_line(omnigate(*command, env=env_for(tmp_path, GATEWAY_DATABASE_URL=url)), says)


def test_a_refused_database_port_is_one_line(tmp_path: Path):
    url = f"postgresql+asyncpg://shop:s3cret-pw@127.0.0.1:{refused_port()}/shop"
    for command in (["migrate"], ["serve", "--port", "0"]):
        assert_one_clear_line(omnigate(*command, env=env_for(tmp_path, GATEWAY_DATABASE_URL=url)), "refused")


@pytest.mark.postgresql
def test_a_missing_database_is_one_line(tmp_path: Path):
    server = os.environ.get("GATEWAY_TEST_DATABASE_URL", "")
    if not server.startswith("postgresql"):
        pytest.skip("GATEWAY_TEST_DATABASE_URL names no PostgreSQL server")
    url = server.rsplit("/", 1)[0] + "/omnigate_no_such_database"
    out = omnigate("migrate", env=env_for(tmp_path, GATEWAY_DATABASE_URL=url))
    assert_one_clear_line(out, "does not exist", "omnigate_no_such_database")


# --- a port in use ---


def test_a_port_in_use_is_found_before_anything_is_migrated(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = omnigate("serve", "--port", str(port), env=env_for(tmp_path / "data"))
    assert out.returncode != 0
    [line] = out.stderr.strip().splitlines()
    assert f"port {port}" in line and "--port" in line and "in use" in line
    assert not (tmp_path / "data" / "omnigate.db").exists()  # nothing migrated or seeded


# --- logs ---

_LOG_ONE = (
    "from gateway.running.logs import configure; import logging; configure(); "
    "logging.getLogger('x').warning('hi')"
)


def test_logs_are_json_when_piped_and_text_on_a_terminal(tmp_path: Path):
    piped = subprocess.run([sys.executable, "-c", _LOG_ONE], capture_output=True, text=True, check=True)
    assert json.loads(piped.stderr)["message"] == "hi"
    leader, follower = pty.openpty()
    try:
        subprocess.run([sys.executable, "-c", _LOG_ONE], stderr=follower, check=True)
        text = os.read(leader, 4096).decode()
    finally:
        os.close(leader)
        os.close(follower)
    assert "WARNING x hi" in text and not text.lstrip().startswith("{")


def test_a_cli_command_logs_no_library_noise(tmp_path: Path):
    out = omnigate("migrate", env=env_for(tmp_path, GATEWAY_LOG_LEVEL="info"))
    assert out.returncode == 0, out.stderr
    assert "alembic" not in out.stderr and "Context impl" not in out.stderr, out.stderr
    assert out.stdout.startswith("migrate: done")


# --- `/` ---


async def test_the_root_points_to_the_api(tmp_path: Path):
    async with app_on(Settings(_env_file=None, data_dir=tmp_path, seed_demo=False)) as client:
        answer = await client.get("/")
        assert answer.status_code == 200
        assert answer.json()["graphql"] == "/graphql" and answer.json()["graphiql"] == "/graphql"
        page = await client.get("/", headers={"accept": "text/html"})
        assert page.headers["content-type"].startswith("text/html")
        assert 'href="/graphql"' in page.text and "GraphiQL" in page.text
    production = Settings(_env_file=None, data_dir=tmp_path, dev=False)
    async with app_on(production) as client:
        links = (await client.get("/")).json()
        assert links["graphql"] == "/graphql" and "graphiql" not in links


# --- --help ---


def test_apikey_help_lists_only_real_scopes():
    out = subprocess.run(
        [*OMNIGATE, "apikey", "create", "--help"], capture_output=True, text=True, check=True
    )
    text = " ".join(out.stdout.split())
    for scope in Scope:
        assert scope.value in text
    assert "catalog:read" not in text and "inventory:read" not in text
    refused = subprocess.run(
        [*OMNIGATE, "apikey", "create", "--name", "acme", "--scopes", "catalog:read"],
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0 and "no such scope: catalog:read" in refused.stderr


def test_serve_help_shows_the_defaults():
    out = subprocess.run([*OMNIGATE, "serve", "--help"], capture_output=True, text=True, check=True)
    text = " ".join(out.stdout.split())
    assert "127.0.0.1" in text and "8000" in text and "(default: 1)" in text
