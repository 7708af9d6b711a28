"""Fixtures: a freshly seeded gateway per test, on SQLite always and on PostgreSQL when
GATEWAY_TEST_DATABASE_URL is set (CI sets it). Each test gets its own copy of a demo database
seeded once per session, so tests may write freely."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.store import open_store
from gateway.app import create_app
from gateway.settings import Settings

PG_URL = os.environ.get("GATEWAY_TEST_DATABASE_URL")
INTEGRATION_TOKEN = "test-integration-token"  # GATEWAY_INTEGRATION_TOKEN: stock counts and receipts
ORDER_SYNC_TOKEN = "test-order-sync-token"  # an integration with the order scopes
INTEGRATIONS = {
    "order-sync": {
        "sha256": hashlib.sha256(ORDER_SYNC_TOKEN.encode()).hexdigest(),
        "scopes": ["orders:read", "orders:write"],
    }
}
# Staff of each demo location (ids 1-12: 11 and 12 in Canada) and two members; placeholders
# for real sign-in.
STAFF_TOKENS = [
    {"token": f"test-staff-{lid}", "subject": f"staff:{lid}", "location_ids": [lid]} for lid in range(1, 13)
]
# Staff roles (resolvers/principal.py STAFF_SCOPES): a store manager who reads store 1's figures,
# an HQ analyst, a support agent (who works at store 1 too) and an admin who reads the audit log.
STAFF_TOKENS += [
    {
        "token": "test-analyst-1",
        "subject": "staff:mgr-1",
        "location_ids": [1],
        "scopes": ["analytics:read"],
    },
    {"token": "test-analyst-hq", "subject": "staff:hq", "location_ids": [], "scopes": ["analytics:all"]},
    {"token": "test-support", "subject": "staff:support", "location_ids": [1], "scopes": ["support:write"]},
    {"token": "test-admin", "subject": "staff:admin", "location_ids": [], "scopes": ["audit:read"]},
]
MEMBER_TOKENS = [{"token": f"test-member-{m}", "member_id": m} for m in ("m1", "m2")]
JWT_SECRET = "test-jwt-secret-of-at-least-32-bytes!"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    if PG_URL:
        return
    skip = pytest.mark.skip(reason="GATEWAY_TEST_DATABASE_URL is not set")
    for item in items:
        if "postgresql" in item.keywords:
            item.add_marker(skip)


async def _seed(url: str) -> None:
    store = open_store(url)
    try:
        await store.migrate()
        await store.seed_demo()
    finally:
        await store.close()


class SqliteTemplates:
    def __init__(self, folder: Path) -> None:
        self.template = folder / "template.db"
        self.folder = folder

    async def prepare(self) -> None:
        await _seed(f"sqlite+aiosqlite:///{self.template}")

    async def clone(self) -> str:
        target = self.folder / f"{uuid.uuid4().hex}.db"
        # The online backup API folds the WAL in; a plain file copy could miss pages.
        with sqlite3.connect(self.template) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        return f"sqlite+aiosqlite:///{target}"

    async def empty(self) -> str:
        """A database with nothing in it: not even the schema."""
        return f"sqlite+aiosqlite:///{self.folder / uuid.uuid4().hex}.db"


class PostgresTemplates:
    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.template = f"omnigate_tpl_{uuid.uuid4().hex[:10]}"
        self.created: list[str] = []

    async def _admin(self, *statements: str) -> None:
        engine = create_async_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                for statement in statements:
                    await conn.execute(sa.text(statement))
        finally:
            await engine.dispose()

    def _url(self, database: str) -> str:
        return make_url(self.admin_url).set(database=database).render_as_string(hide_password=False)

    async def prepare(self) -> None:
        await self._admin(f'CREATE DATABASE "{self.template}"')
        self.created.append(self.template)
        await _seed(self._url(self.template))

    async def clone(self) -> str:
        name = f"omnigate_t_{uuid.uuid4().hex[:12]}"
        await self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self.created.append(name)
        return self._url(name)

    async def empty(self) -> str:
        """A database with nothing in it: not even the schema."""
        name = f"omnigate_e_{uuid.uuid4().hex[:12]}"
        await self._admin(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self._url(name)

    async def drop_all(self) -> None:
        await self._admin(*(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in reversed(self.created)))


@pytest_asyncio.fixture(scope="session")
async def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplates:
    templates = SqliteTemplates(tmp_path_factory.mktemp("sqlite"))
    await templates.prepare()
    return templates


@pytest_asyncio.fixture(scope="session")
async def postgresql_templates() -> AsyncIterator[PostgresTemplates]:
    assert PG_URL, "GATEWAY_TEST_DATABASE_URL is not set"
    templates = PostgresTemplates(PG_URL)
    await templates.prepare()
    yield templates
    await templates.drop_all()


@pytest.fixture(params=BACKENDS)
def templates(request: pytest.FixtureRequest) -> SqliteTemplates | PostgresTemplates:
    return request.getfixturevalue(f"{request.param}_templates")


@pytest_asyncio.fixture
async def database_url(templates: SqliteTemplates | PostgresTemplates) -> str:
    return await templates.clone()


@pytest_asyncio.fixture
async def empty_database_url(templates: SqliteTemplates | PostgresTemplates) -> str:
    return await templates.empty()


class Callers:
    """Request headers that sign in as each kind of caller the test settings know."""

    def as_integration(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {INTEGRATION_TOKEN}"}

    def as_order_sync(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {ORDER_SYNC_TOKEN}"}

    def as_staff(self, location_id: int) -> dict[str, str]:
        return {"Authorization": f"Bearer test-staff-{location_id}"}

    def as_role(self, role: str) -> dict[str, str]:
        """Staff with a role: analyst-1 (store 1's figures), analyst-hq, support, admin."""
        return {"Authorization": f"Bearer test-{role}"}

    def as_member(self, member_id: str = "m1") -> dict[str, str]:
        return {"Authorization": f"Bearer test-member-{member_id}"}


class Api(Callers):
    """The gateway over HTTP (in-process ASGI), plus a view of its store for assertions."""

    def __init__(self, app: Any, client: httpx.AsyncClient) -> None:
        self.app = app
        self.client = client
        self.gateway = app.state.gateway
        self.store = self.gateway.store

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> httpx.Response:
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        return await self.client.post("/graphql", json=body, headers=headers)

    async def gql(
        self, query: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> dict[str, Any]:
        response = await self.post(query, variables, **headers)
        assert response.status_code == 200, response.text
        assert "Traceback" not in response.text
        return response.json()

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> dict[str, Any]:
        body = await self.gql(query, variables, **headers)
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def error_codes(self, query: str, variables: dict[str, Any] | None = None) -> list[str]:
        body = await self.gql(query, variables)
        assert body.get("errors"), body
        return [e["extensions"]["code"] for e in body["errors"]]

    def advance(self, **delta: float) -> None:
        """Move the gateway's clock forward (holds, carts and checkouts expire by it)."""
        shift = timedelta(**delta)
        before = self.gateway.clock
        self.gateway.clock = lambda: before() + shift

    def start_clock_at(self, moment: datetime) -> None:
        """Set the gateway's clock to `moment`, from where it runs on at the machine's pace: rows a
        test writes with fixed dates stay as fresh as the test meant them, whatever today is."""
        offset = moment - self.gateway.clock()
        before = self.gateway.clock
        self.gateway.clock = lambda: before() + offset


def make_settings(database_url: str, **overrides: Any) -> Settings:
    options: dict[str, Any] = {
        "staff_tokens": STAFF_TOKENS,
        "member_tokens": MEMBER_TOKENS,
        "jwt_secret": JWT_SECRET,
        "integrations": INTEGRATIONS,
        "reservation_sweep_seconds": 0,  # tests sweep when they mean to (statement counts!)
        # Every compiled answer is checked against strawberry's executor; `serving` fails the
        # test on any difference (tests/test_differential.py is the systematic version).
        "compiled_verify": True,
        **overrides,
    }
    return Settings(
        database_url=database_url,
        integration_token=INTEGRATION_TOKEN,
        seed_demo=False,
        **options,
    )


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[Api]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            yield Api(app, client)
    assert_executors_agreed(app.state.gateway)


def assert_executors_agreed(gateway: Any) -> None:
    """With `compiled_verify`, each compiled answer was also computed by the standard executor."""
    compiled = gateway.compiled
    if compiled is not None and compiled.mismatch_count:
        first = compiled.mismatches[0]
        raise AssertionError(
            f"{compiled.mismatch_count} compiled answer(s) differ from the standard executor's; first: "
            f"{first.query!r} with {first.variables!r}: "
            f"compiled {first.compiled!r}, standard {first.standard!r}"
        )


@pytest_asyncio.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with serving(make_settings(database_url)) as api:
        yield api


@pytest_asyncio.fixture
async def uncached_api(database_url: str) -> AsyncIterator[Api]:
    """The gateway with no cache of any kind: every request reads the database."""
    # Round trips are counted here: no verification run reading everything a second time.
    settings = make_settings(database_url, entity_cache=False, response_cache=False, compiled_verify=False)
    async with serving(settings) as api:
        yield api


# --- Real upstreams (Tryton, the OData mock server) and gateways fed by them ---


def _missing_upstream(reason: str) -> None:
    # CI installs both upstreams: there a missing one is a broken build, not a skip.
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def tryton_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    from tests.upstreams.tryton import template_database, trytond_binary

    binary = trytond_binary()
    if binary is None:
        _missing_upstream("Tryton is not installed: run .ci/run or set OMNIGATE_TRYTOND")
    assert binary is not None
    return binary, template_database(binary), tmp_path_factory.mktemp("tryton")


@pytest.fixture
def tryton(tryton_template: tuple[Path, Path, Path]) -> Any:
    from tests.upstreams.tryton import tryton_server

    server = tryton_server(*tryton_template)
    yield server
    server.stop()


@pytest_asyncio.fixture
async def make_api(tmp_path: Path, sqlite_templates: SqliteTemplates) -> AsyncIterator[Any]:
    """Build gateways on demand: `await make_api(upstreams={...}, catalog="tryton", ...)`.
    The store is empty (migrated, nothing seeded) unless `seeded=True`; background loops are
    off, so a test drives `api.gateway.sync.run_once()` and `api.gateway.outbox.run_once()`."""
    from contextlib import AsyncExitStack

    stack = AsyncExitStack()

    async def make(
        *,
        seeded: bool = False,
        upstreams: dict[str, Any] | None = None,
        database_url: str | None = None,
        **overrides: Any,
    ) -> Api:
        if database_url:
            url = database_url
        elif seeded:
            url = await sqlite_templates.clone()
        else:
            url = f"sqlite+aiosqlite:///{tmp_path / uuid.uuid4().hex}.db"
        overrides.setdefault("sync_interval_s", 0)
        overrides.setdefault("outbox_interval_s", 0)
        app = create_app(make_settings(url, **overrides), upstreams=upstreams)
        await stack.enter_async_context(app.router.lifespan_context(app))
        transport = httpx.ASGITransport(app=app)
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://gateway.test")
        )
        return Api(app, client)

    yield make
    await stack.aclose()


@pytest.fixture(scope="session")
def odata_server() -> Any:
    from tests.upstreams.odata import missing, start_odata

    reason = missing()
    if reason:
        _missing_upstream(reason)
    server = start_odata()
    yield server
    server.stop()


@pytest.fixture
def odata(odata_server: Any) -> Any:
    odata_server.reset()
    return odata_server


@pytest_asyncio.fixture
async def proxy() -> AsyncIterator[Any]:
    """`await proxy(target_url)`: a faulty proxy in front of an upstream, closed after the test."""
    from tests.upstreams.proxy import FaultyProxy

    made: list[FaultyProxy] = []

    async def make(target: str) -> FaultyProxy:
        made.append(await FaultyProxy(target).start())
        return made[-1]

    yield make
    for p in made:
        await p.close()
