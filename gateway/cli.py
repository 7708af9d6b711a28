"""`omnigate serve | seed | migrate | backup | restore | export-schema | token | apikey`."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from gateway.running.logs import configure as configure_logs
from gateway.running.serving import serve_one
from gateway.settings import Settings
from resolvers.principal import Scope


def _check_port(host: str, port: int) -> None:
    """Before migrating or seeding anything: is the port free? (uvicorn binds only after the
    gateway has started, which on a new data folder means after migrating and seeding it.)"""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            reason = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc.strerror})"
            raise SystemExit(
                f"omnigate: port {port} on {host} {reason}: stop what listens there, or choose another "
                f"port with --port (or GATEWAY_PORT)"
            ) from None


def _database_problem(url: str) -> str | None:
    """What is wrong with GATEWAY_DATABASE_URL's form (never echoing it: it may hold a password)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    fix = "set GATEWAY_DATABASE_URL=postgresql+asyncpg://user:password@host:5432/name, or unset it for the "
    fix += "embedded SQLite database"
    try:
        parsed = make_url(url)
    except ArgumentError:
        return f"GATEWAY_DATABASE_URL is not a database URL: {fix}"
    scheme = parsed.drivername
    if scheme in ("postgresql+asyncpg", "sqlite+aiosqlite"):
        return None
    if parsed.get_backend_name() in ("postgres", "postgresql"):
        return f"GATEWAY_DATABASE_URL starts with {scheme}://, the gateway needs postgresql+asyncpg://: {fix}"
    if parsed.get_backend_name() == "sqlite":
        return f"GATEWAY_DATABASE_URL starts with {scheme}://, the gateway needs sqlite+aiosqlite://: {fix}"
    return (
        f"GATEWAY_DATABASE_URL names {parsed.get_backend_name()}, which the gateway does not support: {fix}"
    )


def _connection_problem(exc: BaseException, settings: Settings) -> str:
    """One line for a database the gateway cannot reach or use."""
    where = _where(settings.resolved_database_url)
    text = f"{type(exc).__name__}: {exc}".lower()
    name = type(exc).__name__
    if (
        isinstance(exc, ConnectionRefusedError)
        or "connection refused" in text
        or "connect call failed" in text
    ):
        return (
            f"cannot connect to the database ({where}): the connection was refused. Start the "
            "database server, or fix the host and port in GATEWAY_DATABASE_URL"
        )
    if name == "InvalidCatalogNameError" or ("database" in text and "does not exist" in text):
        return (
            f"the database ({where}) does not exist: create it (e.g. createdb), or fix the "
            "name in GATEWAY_DATABASE_URL"
        )
    if "password authentication failed" in text or name == "InvalidPasswordError":
        return f"the database ({where}) refused the user or password of GATEWAY_DATABASE_URL"
    if isinstance(exc, (TimeoutError, OSError)):
        return f"cannot connect to the database ({where}): {name}. Check the host in GATEWAY_DATABASE_URL"
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"the database ({where}) cannot be used: {name}: {first}. Check GATEWAY_DATABASE_URL"


def _check_database(settings: Settings) -> None:
    """A bad GATEWAY_DATABASE_URL ends the command with one line saying what to set."""
    if settings.database_url is not None and (problem := _database_problem(settings.database_url)):
        raise SystemExit(f"omnigate: {problem}")


def _run_on_database(settings: Settings, work: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """asyncio.run(work()), with the ways a database is unreachable said in one line."""
    _check_database(settings)
    try:
        return asyncio.run(work())
    except (OSError, TimeoutError) as exc:
        raise SystemExit(f"omnigate: {_connection_problem(exc, settings)}") from None
    except Exception as exc:
        from sqlalchemy.exc import DBAPIError, InterfaceError

        cause = exc.__cause__ or exc.__context__
        if isinstance(exc, (DBAPIError, InterfaceError)) or type(exc).__module__.startswith("asyncpg"):
            raise SystemExit(f"omnigate: {_connection_problem(cause or exc, settings)}") from None
        raise


async def _reachable(settings: Settings) -> None:
    from sqlalchemy import text

    from adapters.store import open_store

    store = open_store(settings.resolved_database_url, currency_code=settings.currency_code)
    try:
        async with store.engine.connect() as connection:
            await connection.execute(text("select 1"))
    finally:
        await store.close()


def _serve(settings: Settings, args: argparse.Namespace) -> None:
    host, port = args.host or settings.host, args.port or settings.port
    settings = settings.model_copy(update={"host": host, "port": port})  # where it really listens
    _check_port(host, port)
    _check_database(settings)
    if settings.database_url is not None:
        _run_on_database(settings, lambda: _reachable(settings))
    if args.forwarded_allow_ips is not None:  # the command line over GATEWAY_FORWARDED_ALLOW_IPS
        settings = settings.model_copy(update={"forwarded_allow_ips": args.forwarded_allow_ips})
    if args.workers == 1:
        serve_one(settings, host, port)
        return
    from gateway.running import supervisor

    supervisor.check(settings, args.workers)
    # Once, before the workers: N processes must not race to migrate or seed one database.
    _run_on_database(settings, lambda: _with_store(settings, False, settings.seeds_demo))
    supervisor.Supervisor(settings, host, port, args.workers).run()


async def _with_store(settings: Settings, reseed: bool, seed_if_empty: bool = False) -> None:
    from adapters.store import open_store

    store = open_store(settings.resolved_database_url, currency_code=settings.currency_code)
    try:
        await store.migrate()
        if reseed or (seed_if_empty and await store.is_empty()):
            await store.seed_demo(history=True)
    finally:
        await store.close()


def _sqlite_file(settings: Settings, command: str) -> Path:
    from sqlalchemy.engine import make_url

    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        raise SystemExit(
            f"omnigate {command} is for the embedded SQLite database; GATEWAY_DATABASE_URL names "
            f"{url.get_backend_name()} (for PostgreSQL use pg_dump and pg_restore)"
        )
    return Path(url.database)


def _backup(settings: Settings, args: argparse.Namespace) -> str:
    from datetime import UTC, datetime

    from adapters.store.backups import BackupError, backup

    database = _sqlite_file(settings, "backup")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = Path(args.file) if args.file else database.parent / "backups" / f"omnigate-{stamp}.db"
    try:
        return f"backup: {backup(database, target)} (integrity checked)"
    except BackupError as exc:
        raise SystemExit(f"backup refused: {exc}") from None


def _restore(settings: Settings, args: argparse.Namespace) -> str:
    from adapters.store.backups import BackupError, restore

    database = _sqlite_file(settings, "restore")
    try:
        kept = restore(Path(args.file), database)
    except BackupError as exc:
        raise SystemExit(f"restore refused: {exc}") from None
    before = f"; the database it replaced is kept as {kept}" if kept else ""
    return f"restore: {database} is now {args.file} (integrity checked){before}"


def _export_schema(args: argparse.Namespace) -> None:
    from schema import build_schema

    sdl = build_schema().as_str() + "\n"
    if args.output == "-":
        sys.stdout.write(sdl)
    else:
        Path(args.output).write_text(sdl)


async def _member_token(settings: Settings, email: str) -> str:
    from adapters.store import open_store
    from gateway.identity.auth import issuer_from, with_local_signing_key
    from gateway.upstreams.connect import STORE, connect_upstreams

    issuer = issuer_from(with_local_signing_key(settings))
    if issuer is None:
        raise SystemExit("omnigate: set GATEWAY_JWT_SECRET: the gateway signs its tokens with it")
    if settings.customers != STORE:  # the members are the CRM's (or the ERP's): ask it
        upstreams = connect_upstreams(settings)
        try:
            found = await upstreams.customers.members.members_by_emails([email])
        finally:
            await upstreams.aclose()
        if not found:
            raise SystemExit(f"{settings.customers} has no customer with the email {email!r}")
        return issuer.member(found[0].key)
    store = open_store(settings.resolved_database_url, currency_code=settings.currency_code)
    try:
        await store.migrate()
        found = await store.members.members_by_emails([email])
    finally:
        await store.close()
    if not found:
        raise SystemExit(f"no member has the email {email!r}")
    return issuer.member(found[0].key)


def _staff_token(settings: Settings, args: argparse.Namespace) -> str:
    from gateway.identity.auth import issuer_from, with_local_signing_key

    issuer = issuer_from(with_local_signing_key(settings))
    if issuer is None:
        raise SystemExit("omnigate: set GATEWAY_JWT_SECRET: the gateway signs its tokens with it")
    try:
        locations = [int(x) for x in args.locations.split(",") if x.strip()]
    except ValueError:
        raise SystemExit("--locations takes location ids, e.g. 1,2") from None
    from resolvers.principal import STAFF_SCOPES

    scopes = [x.strip() for x in getattr(args, "scopes", "").split(",") if x.strip()]
    unknown = [x for x in scopes if x not in STAFF_SCOPES]
    if unknown:
        raise SystemExit(
            f"--scopes takes staff roles ({', '.join(sorted(STAFF_SCOPES))}), not {', '.join(unknown)}"
        )
    return issuer.staff(args.name, locations, scopes)


def _api_key(args: argparse.Namespace) -> str:
    """A new partner key: shown once; the gateway keeps only its sha256 (GATEWAY_PARTNER_KEYS)."""
    import hashlib
    import json
    import secrets

    key = f"og_{secrets.token_urlsafe(32)}"
    scopes = [s.strip() for s in args.scopes.split(",") if s.strip()]
    known = {s.value for s in Scope}
    unknown = [s for s in scopes if s not in known]
    if unknown:
        raise SystemExit(
            f"omnigate: no such scope: {', '.join(unknown)}; the scopes are {', '.join(sorted(known))}"
        )
    entry = {args.name: {"sha256": hashlib.sha256(key.encode()).hexdigest(), "scopes": scopes}}
    return (
        f"API key (shown once, send it as X-API-Key): {key}\n"
        f"Add to the gateway's settings (merge with other partners):\n"
        f"GATEWAY_PARTNER_KEYS='{json.dumps(entry)}'"
    )


def _where(database_url: str) -> str:
    """Which database, for people: backend, host and name; never the user, a password or the
    query string (drivers take passwords there too, `?password=...`)."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return f"sqlite {url.database}"
    port = f":{url.port}" if url.port else ""
    return f"{url.get_backend_name()} {url.host or 'localhost'}{port}/{url.database or ''}"


def _settings() -> Settings:
    """The settings, or a short message saying which ones are wrong (never their values: they
    may be tokens or passwords)."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    try:
        return Settings()
    except (ValidationError, SettingsError) as exc:
        raise SystemExit(f"omnigate: the GATEWAY_* settings are not valid:\n{exc}") from None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="omnigate", description="GraphQL unified commerce gateway")
    commands = parser.add_subparsers(dest="command", required=True)
    defaults = Settings.model_fields
    serve = commands.add_parser(
        "serve",
        help="run the gateway (embedded SQLite unless configured)",
        description="Run the gateway. Without GATEWAY_DATABASE_URL: dev mode on an embedded SQLite "
        "database in GATEWAY_DATA_DIR (default: ./omnigate-data), seeded with a demo retailer.",
    )
    serve.add_argument(
        "--host", help=f"address to listen on (default: GATEWAY_HOST, else {defaults['host'].default})"
    )
    serve.add_argument(
        "--port", type=int, help=f"port to listen on (default: GATEWAY_PORT, else {defaults['port'].default})"
    )
    serve.add_argument(
        "--dev", action="store_true", help="permissive dev mode (default: on without GATEWAY_DATABASE_URL)"
    )
    serve.add_argument(
        "--forwarded-allow-ips",
        help="proxies trusted for X-Forwarded-For/-Proto, comma-separated (default: "
        "GATEWAY_FORWARDED_ALLOW_IPS, else none)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes behind one port; above 1 needs GATEWAY_REDIS_URL (default: 1)",
    )
    commands.add_parser("seed", help="replace the catalog, locations and stock with the demo retailer")
    commands.add_parser("migrate", help="bring the database schema up to date")
    backup = commands.add_parser("backup", help="copy the embedded SQLite database (safe while it runs)")
    backup.add_argument("file", nargs="?", help="default: <data dir>/backups/omnigate-<UTC time>.db")
    restore = commands.add_parser("restore", help="replace the embedded SQLite database with a backup")
    restore.add_argument("file", help="a file made by `omnigate backup`")
    export = commands.add_parser("export-schema", help="print the GraphQL SDL")
    export.add_argument("--output", "-o", default="-", help="file to write (default: stdout)")
    token = commands.add_parser("token", help="print a signed JWT (needs GATEWAY_JWT_SECRET)")
    kinds = token.add_subparsers(dest="kind", required=True)
    member = kinds.add_parser("member", help="a member's token, by email")
    member.add_argument("email")
    staff = kinds.add_parser("staff", help="a staff token for some locations")
    staff.add_argument("--locations", required=True, help="location ids, e.g. 1,2")
    staff.add_argument("--name", default="staff", help="who, for audit trails")
    staff.add_argument(
        "--scopes",
        default="",
        help="roles: analytics:read (their stores), analytics:all, support:write, audit:read",
    )
    apikey = commands.add_parser("apikey", help="partner API keys")
    apikey_commands = apikey.add_subparsers(dest="action", required=True)
    create = apikey_commands.add_parser("create", help="print a new key and its settings line")
    create.add_argument("--name", required=True)
    create.add_argument(
        "--scopes",
        default="",
        help=f"comma-separated, any of: {', '.join(s.value for s in Scope)} (default: none; every key "
        "reads the public catalog, locations and stock)",
    )
    args = parser.parse_args(argv)

    if args.command == "apikey":
        print(_api_key(args))
        return

    if args.command == "export-schema":
        logging.basicConfig(level=logging.INFO)
        _export_schema(args)
        return
    settings = _settings()
    configure_logs(settings.log_format, settings.log_level)
    if args.command == "serve":
        if args.dev:
            settings = settings.model_copy(update={"dev": True})
        _serve(settings, args)
    elif args.command in ("backup", "restore"):
        print((_backup if args.command == "backup" else _restore)(settings, args))
    elif args.command == "token":
        if args.kind == "member":
            print(_run_on_database(settings, lambda: _member_token(settings, args.email)))
        else:
            print(_staff_token(settings, args))
    else:
        _run_on_database(settings, lambda: _with_store(settings, reseed=args.command == "seed"))
        print(f"{args.command}: done ({_where(settings.resolved_database_url)})")
