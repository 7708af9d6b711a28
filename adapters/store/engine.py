"""The gateway's database connection, whatever sits on it: reads in autocommit, write
transactions (one writer queue on SQLite, run again when chosen as a deadlock victim), the count
of statements sent, and the engine opened with each dialect's connection behaviour. Every
sub-store reads and writes through a `Database`; `database.Store` builds them on one."""

from __future__ import annotations

import asyncio
import errno
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from adapters.store.notifications import APPLICATION_NAME

T = TypeVar("T")
# PostgreSQL's deadlock and serialization failures, SQLite's "database is locked": the
# transaction did nothing and may simply be run again.
_RETRYABLE_SQLSTATES = {"40P01", "40001"}
# PostgreSQL's connection exceptions (08...) and operator intervention: shutting down, starting
# up, a connection terminated by a restart (57P...).
_UNREACHABLE_SQLSTATES = ("08", "57P")

# A pooled PostgreSQL connection idle for longer than this is pinged before it is handed out (a
# restart or a dropped socket shows there, not in a customer's request); one in steady use is
# not: SQLAlchemy's pre-ping would cost three round trips (BEGIN, ping, ROLLBACK) per checkout.
IDLE_PING_SECONDS = 5.0


class Database:
    """The engine, and the ways to read and write through it."""

    def __init__(self, engine: AsyncEngine, currency_code: str) -> None:
        self.engine = engine
        # Reads are single statements: on PostgreSQL they run in autocommit, with no BEGIN and
        # ROLLBACK around each (SQLite's reads already do, see _configure_sqlite).
        self._read_engine = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "postgresql"
            else engine
        )
        # SQLite has one writer: this process's write transactions take turns here, in order,
        # rather than all waiting on the database's lock (busy_timeout's sleeps grow to 100 ms).
        self._writer: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        self.currency_code = currency_code
        self.statements = 0  # SQL statements sent, for tests and metrics
        self.trace: list[str] | None = None  # set to a list to record each statement
        event.listen(engine.sync_engine, "before_cursor_execute", self._count)

    def _count(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.statements += 1
        if self.trace is not None:
            self.trace.append(statement)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def sqlite_file(self) -> Path | None:
        """The embedded database's file (None on PostgreSQL or in memory)."""
        database = self.engine.url.database
        if self.dialect != "sqlite" or not database or database == ":memory:":
            return None
        return Path(database)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        async with self._read_engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction; on SQLite it waits for this process's earlier writes first (one
        writer queue), then takes the write lock up front (BEGIN IMMEDIATE) so that writers of
        other processes queue on busy_timeout instead of deadlocking on a lock upgrade."""
        queue = self._writer_queue()
        if queue is not None:
            await queue.acquire()
        try:
            async with self.engine.connect() as conn:
                conn = await conn.execution_options(omnigate_writes=True)
                async with conn.begin():
                    yield conn
        finally:
            if queue is not None:
                queue.release()

    def _writer_queue(self) -> asyncio.Lock | None:
        if self.dialect != "sqlite":
            return None
        loop = asyncio.get_running_loop()
        if self._writer is None or self._writer[0] is not loop:  # a lock serves one event loop
            self._writer = (loop, asyncio.Lock())
        return self._writer[1]

    async def write(self, work: Callable[[AsyncConnection], Awaitable[T]], attempts: int = 4) -> T:
        """Run `work` in a write transaction, again if the database chose it as a deadlock or
        lock-timeout victim (it then did nothing). `work` must only touch the database."""
        for attempt in range(1, attempts + 1):
            try:
                async with self.writing() as conn:
                    return await work(conn)
            except DBAPIError as exc:
                if attempt == attempts or not _retryable(exc):
                    raise
                await asyncio.sleep(0.01 * attempt)
        raise AssertionError("unreachable")

    async def ping(self) -> None:
        async with self.reading() as conn:
            await conn.execute(select(1))

    @property
    def pool_status(self) -> str:
        """The connection pool as SQLAlchemy describes it (checked out, overflow), for benches."""
        return str(self.engine.pool.status())

    async def close(self) -> None:
        await self.engine.dispose()


def unreachable(exc: BaseException | None) -> bool:
    """The database could not be reached (down, restarting, the connection lost) rather than a
    bug or a refused statement: nothing more of the request happened, and it may be tried again.
    Looks down the chain of causes: drivers wrap socket errors, SQLAlchemy wraps drivers."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, ConnectionError | TimeoutError | socket.gaierror):  # refused, reset, timed out
            return True
        if isinstance(exc, OSError) and exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            return True
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            return True
        state = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
        if isinstance(state, str) and state.startswith(_UNREACHABLE_SQLSTATES):
            return True
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
    return False


def _retryable(exc: DBAPIError) -> bool:
    orig = exc.orig
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return state in _RETRYABLE_SQLSTATES or "database is locked" in str(orig)


def _configure_sqlite(engine: AsyncEngine, database: str | None) -> None:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Reads are single statements and run in autocommit (one round trip less); writes take
        # the write lock up front so two writers queue on busy_timeout instead of deadlocking.
        if conn.get_execution_options().get("omnigate_writes"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Hand out no connection that died while it sat in the pool (PostgreSQL restarted, a
    firewall dropped it): one idle for a while is pinged first, and a dead one is replaced
    (the pool retries the checkout on DisconnectionError). A connection that dies while in use
    is caught by SQLAlchemy's disconnect handling, which also recycles the rest of the pool."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["omnigate_idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("omnigate_idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            dbapi_conn.ping()
        except Exception as exc:
            raise DisconnectionError(f"a pooled connection was dead: {exc}") from exc


def create_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    """An async engine for `url`, with its dialect's connection behaviour."""
    parsed = make_url(url)
    options: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "postgresql":
        # A fixed pool, most recently used first: no connection opened and closed per burst, and
        # the connections in use stay warm (prepared statements) while the rest rest.
        options.update(pool_size=pool_size, max_overflow=0, pool_use_lifo=True)
        # The change triggers (migration 0011) skip the gateway's own writes by this name.
        options["connect_args"] = {"server_settings": {"application_name": APPLICATION_NAME}}
    engine = create_async_engine(url, **options)
    if parsed.get_backend_name() == "sqlite":
        _configure_sqlite(engine, parsed.database)
    else:
        _ping_when_idle(engine)
    return engine
