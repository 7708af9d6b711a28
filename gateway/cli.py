"""`omnigate serve | seed | migrate | export-schema`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from gateway.logs import configure as configure_logs
from gateway.settings import Settings


def _serve(settings: Settings, args: argparse.Namespace) -> None:
    import uvicorn

    from gateway.app import create_app

    uvicorn.run(
        create_app(settings),
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_level=settings.log_level,
        log_config=None,  # our JSON (or text) logging, configured in main()
        loop="auto",
        http="auto",
    )


async def _with_store(settings: Settings, reseed: bool) -> None:
    from adapters.store import open_store

    store = open_store(settings.resolved_database_url, currency_code=settings.currency_code)
    try:
        await store.migrate()
        if reseed:
            await store.seed_demo()
    finally:
        await store.close()


def _export_schema(args: argparse.Namespace) -> None:
    from schema import build_schema

    sdl = build_schema().as_str() + "\n"
    if args.output == "-":
        sys.stdout.write(sdl)
    else:
        Path(args.output).write_text(sdl)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="omnigate", description="GraphQL unified commerce gateway")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the gateway (embedded SQLite unless configured)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--dev", action="store_true", help="permissive dev mode (see README)")
    commands.add_parser("seed", help="replace the catalog, locations and stock with the demo retailer")
    commands.add_parser("migrate", help="bring the database schema up to date")
    export = commands.add_parser("export-schema", help="print the GraphQL SDL")
    export.add_argument("--output", "-o", default="-", help="file to write (default: stdout)")
    args = parser.parse_args(argv)

    if args.command == "export-schema":
        logging.basicConfig(level=logging.INFO)
        _export_schema(args)
        return
    settings = Settings()
    configure_logs(settings.log_format, settings.log_level)
    if args.command == "serve":
        if args.dev:
            settings = settings.model_copy(update={"dev": True})
        _serve(settings, args)
    else:
        asyncio.run(_with_store(settings, reseed=args.command == "seed"))
        print(f"{args.command}: done ({settings.resolved_database_url.split('@')[-1]})")
