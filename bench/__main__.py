"""`python -m bench`: fresh database, in-process breakdown, then the servers under load (the listing,
then the product page), the targets table and bench/RESULTS.md. Every server it starts is stopped
on the way out, whatever the way out."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

from bench import (
    inprocess,
    load,
    machine,
    node_peers,
    productpage,
    report,
    scenarios,
    servers,
    targets,
    verify,
)
from bench.listing import RESULTS, WORK, gateway_variants, listing_body


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="listing load per server per round")
    parser.add_argument("--page-seconds", type=float, default=4.0, help="product page load per step")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds over all servers")
    parser.add_argument("--connections", type=int, default=16, help="listing clients")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--runs", type=int, default=20, help="repetitions of each in-process step")
    parser.add_argument("--quick", action="store_true", help="2 s x 1 round; writes under bench/.work/")
    parser.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto", help="load generator")
    parser.add_argument("--no-install", action="store_true", help="never apt-get install wrk")
    parser.add_argument("--no-peers", action="store_true", help="skip the Node peers")
    parser.add_argument("--output", type=Path, help="where to write the results (default bench/RESULTS.md)")
    parser.add_argument(
        "--no-scenarios", action="store_true", help="skip bench/scenarios.py"
    )
    parser.add_argument("--redis", default=os.environ.get("GATEWAY_TEST_REDIS_URL"),
                        help="a Redis URL (default $GATEWAY_TEST_REDIS_URL): fan-out across two processes, "
                        "--workers 2, push latency")  # fmt: skip
    parser.add_argument("--database-url", default=os.environ.get("GATEWAY_TEST_DATABASE_URL"),
                        help="PostgreSQL (default $GATEWAY_TEST_DATABASE_URL): the write path, --workers 2 "
                        "and push latency scenarios make scratch databases beside it")  # fmt: skip
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.page_seconds, args.rounds, args.runs = 2.0, 2.0, 1, 5
        # A smoke run must not replace the real figures.
        args.output = args.output or WORK / "RESULTS-quick.md"
    args.output = args.output or RESULTS
    return args


def _scenario_options(args: argparse.Namespace) -> dict[str, tuple[str, ...]]:
    """Where the scenarios that need them find PostgreSQL and Redis (each skips what is missing)."""
    database = ("--database-url", args.database_url) if args.database_url else ()
    redis = ("--redis", args.redis) if args.redis else ()
    return {"subscriptions": redis, "writes": (*database, *redis), "processes": (*database, *redis),
            "notify": (*database, *redis), "commerce": database, "analytics": database}  # fmt: skip


def _on_sigterm(_signum: int, _frame: Any) -> NoReturn:
    raise KeyboardInterrupt  # unwinds through the `with Servers` block, which stops them


def _peers(args: argparse.Namespace, database: Path, run: report.Run) -> tuple[str | None, Path | None]:
    node, why = (None, "--no-peers") if args.no_peers else node_peers.prepare()
    if node is None:
        run.notes.append(f"Node peers (Apollo Server, graphql-jit) not measured: {why}.")
        print(f"bench: SKIPPING the Node peers: {why}", flush=True)
        return None, None
    run.notes.append(f"Node peers on node {node_peers.node_version(node)} (NODE_ENV=production).")
    return node, node_peers.export_rows(database, WORK / "peer-rows.json")


def _start(running: servers.Servers, database: Path, node: str | None, rows: Path | None,
           run: report.Run) -> tuple[dict[str, servers.Server], dict[str, str]]:  # fmt: skip
    """Every server, ready; and the listing URL of each, in the order of the tables."""
    data_dir = database.parent
    gateways = {name: running.gateway(name, data_dir, **s) for name, s in gateway_variants().items()}
    baseline = running.baseline(database)
    peers = {}
    if node is not None and rows is not None:
        for name, script in node_peers.PEERS.items():
            port = servers.free_port()
            peers[name] = running.peer(name, node_peers.argv(node, script, port, rows), port)
    for server in [*gateways.values(), baseline]:
        server.wait_ready()
    for name, peer in list(peers.items()):
        try:
            peer.wait_ready()
        except RuntimeError as exc:  # a peer that cannot start costs its rows, not the run
            print(f"bench: SKIPPING {name}: {exc}", flush=True)
            run.notes.append(f"{name} did not start (see bench/.work/logs/{name}.log).")
            del peers[name]
    urls = {name: s.url("/graphql") for name, s in [*gateways.items(), *peers.items()]}
    for route in ("static/orjson", "static/json", "db/orjson", "db/json"):
        urls[f"baseline-{route.replace('/', '-')}"] = baseline.url(f"/{route}")
    return gateways, urls


def _listing(
    args: argparse.Namespace, tool: Any, running: servers.Servers, urls: dict[str, str]
) -> list[report.Measured]:
    body = listing_body()
    measured = [report.Measured(name) for name in urls]
    print(f"bench: listing: warm-up, then {args.rounds} x {args.seconds:g} s per server with {tool.version}")
    for m in measured:
        running.wait_idle()
        tool.run(urls[m.name], body, min(2.0, args.seconds / 2))
    for round_no in range(1, args.rounds + 1):
        for m in measured:
            running.wait_idle()
            result = tool.run(urls[m.name], body, args.seconds)
            m.rounds.append(result)
            print(
                f"  round {round_no} {m.name:<22} {result.requests_per_s:9.1f} req/s  "
                f"p50 {report.ms(result.p50_ms)} ms  p99 {report.ms(result.p99_ms)} ms  "
                f"errors {result.errors}",
                flush=True,
            )
    return measured


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    started = time.monotonic()
    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with SIGINT ignored
    print("bench: seeding a fresh demo database ...", flush=True)
    database = servers.prepare_database(WORK / "db")

    print(f"bench: in-process breakdown ({args.runs} runs per step) ...", flush=True)
    # Settings() would read the caller's GATEWAY_* variables too: the in-process app gets none.
    for key in [k for k in os.environ if k.startswith("GATEWAY_")]:
        del os.environ[key]
    inproc = asyncio.run(inprocess.measure(database.parent, args.runs))

    tool = load.choose_tool(WORK, args.threads, args.connections, not args.no_install, args.tool)
    description = tool.describe(args.seconds) + f"; {args.rounds} rounds, interleaved"
    run = report.Run(description, machine.commit(), [], inproc, load_before=machine.load_average())
    node, rows = _peers(args, database, run)
    page_body = productpage.body(productpage.first_handle(database))
    with servers.Servers(WORK / "logs") as running:
        gateways, urls = _start(running, database, node, rows, run)
        verify.same_answers(urls, listing_body(), report.REFERENCE)
        peer_urls = {name: urls[name] for name in node_peers.PEERS if name in urls}
        verify.peers_paginate_alike(urls["gateway"], peer_urls)
        print(f"bench: all {len(urls)} servers answer the listing with the same JSON", flush=True)
        run.servers = _listing(args, tool, running, urls)

        page_urls = {name: urls[name] for name in productpage.SERVERS if name in gateways}
        variants = verify.product_page_answers(page_urls, page_body)
        print(f"bench: product page ({variants} variants): {args.rounds} x {args.page_seconds:g} s per step")
        run.product_page = productpage.measure(
            tool, page_urls, page_body, args.page_seconds, args.rounds, running.wait_idle
        )
        run.page_tool = (
            f"{tool.version}, -c{'/'.join(map(str, productpage.CLIENTS))}, {args.page_seconds:g} s each, "
            f"{args.rounds} rounds, interleaved"
        )

    if not args.no_scenarios:
        run.scenarios = scenarios.run_all(args.quick, _scenario_options(args))
    run.load_after = machine.load_average()
    run.duration_s = time.monotonic() - started
    run.targets = targets.rows(run)
    report.print_summary(run)
    report.write_markdown(args.output, run)
    print(f"\nbench: wrote {args.output}")


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except KeyboardInterrupt:
        sys.exit("bench: interrupted; servers stopped")
