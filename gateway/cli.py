"""`omnigate serve | seed | migrate | backup | restore | export-schema | token | apikey`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

from gateway.logs import configure as configure_logs
from gateway.settings import Settings


def serve_one(settings: Settings, host: str, port: int, sockets: list[Any] | None = None) -> None:
    """One gateway process until SIGTERM (on `sockets` when a supervisor's worker)."""
    import uvicorn

    from gateway.app import create_app
    from gateway.draining import DrainingServer

    if settings.gc_freeze is None:  # a process of its own: see gateway/heap.py
        settings = settings.model_copy(update={"gc_freeze": True})
    app = create_app(settings)
    # Forwarded headers only from the proxies the operator names (uvicorn on its own trusts
    # loopback): otherwise a client on the same host could pick its own address, and with it
    # its own rate-limit bucket.
    trusted = settings.forwarded_allow_ips.strip()
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
        log_level=settings.log_level,
        log_config=None,  # our JSON (or text) logging, configured in main()
        loop="auto",
        http="auto",
        ws_per_message_deflate=settings.websocket_compression,
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,  # type: ignore[arg-type]
    )
    DrainingServer(config, app.state.gateway).run(sockets=sockets)


def _serve(settings: Settings, args: argparse.Namespace) -> None:
    host, port = args.host or settings.host, args.port or settings.port
    settings = settings.model_copy(update={"host": host, "port": port})  # where it really listens
    if args.forwarded_allow_ips is not None:  # the command line over GATEWAY_FORWARDED_ALLOW_IPS
        settings = settings.model_copy(update={"forwarded_allow_ips": args.forwarded_allow_ips})
    if args.workers == 1:
        serve_one(settings, host, port)
        return
    from gateway import supervisor

    supervisor.check(settings, args.workers)
    # Once, before the workers: N processes must not race to migrate or seed one database.
    asyncio.run(_with_store(settings, reseed=False, seed_if_empty=settings.seeds_demo))
    supervisor.Supervisor(settings, host, port, args.workers).run()


async def _with_store(settings: Settings, reseed: bool, seed_if_empty: bool = False) -> None:
    from adapters.store import open_store

    store = open_store(settings.resolved_database_url, currency_code=settings.currency_code)
    try:
        await store.migrate()
        if reseed or (seed_if_empty and await store.is_empty()):
            await store.seed_demo()
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
    from gateway.auth import issuer_from
    from gateway.upstreams import STORE, connect_upstreams

    issuer = issuer_from(settings)
    if issuer is None:
        raise SystemExit("set GATEWAY_JWT_SECRET: the gateway signs its tokens with it")
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
    from gateway.auth import issuer_from

    issuer = issuer_from(settings)
    if issuer is None:
        raise SystemExit("set GATEWAY_JWT_SECRET: the gateway signs its tokens with it")
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
    serve = commands.add_parser("serve", help="run the gateway (embedded SQLite unless configured)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--dev", action="store_true", help="permissive dev mode (see README)")
    serve.add_argument(
        "--forwarded-allow-ips",
        help="proxies trusted for X-Forwarded-For/-Proto, comma-separated (default: "
        "GATEWAY_FORWARDED_ALLOW_IPS, else none)",
    )
    serve.add_argument(
        "--workers", type=int, default=1, help="processes behind one port (above 1: needs GATEWAY_REDIS_URL)"
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
    create.add_argument("--scopes", default="", help="e.g. catalog:read,inventory:read")
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
            print(asyncio.run(_member_token(settings, args.email)))
        else:
            print(_staff_token(settings, args))
    else:
        asyncio.run(_with_store(settings, reseed=args.command == "seed"))
        print(f"{args.command}: done ({_where(settings.resolved_database_url)})")
