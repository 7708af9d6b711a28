"""`python -m bench`: fresh database, in-process breakdown, then the servers under load, a table
and bench/RESULTS.md. Every server it starts is stopped on the way out, whatever the way out."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import urllib.request
from pathlib import Path
from typing import Any, NoReturn

import orjson

from bench import inprocess, load, report, servers
from bench.listing import RESULTS, WORK, gateway_variants, listing_body


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="load per server per round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds over all servers")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--runs", type=int, default=20, help="repetitions of each in-process step")
    parser.add_argument("--quick", action="store_true", help="2 s x 1 round; writes under bench/.work/")
    parser.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto", help="load generator")
    parser.add_argument("--no-install", action="store_true", help="never apt-get install wrk")
    parser.add_argument("--output", type=Path, help="where to write the results (default bench/RESULTS.md)")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.rounds, args.runs = 2.0, 1, 5
        # A smoke run must not replace the real figures.
        args.output = args.output or WORK / "RESULTS-quick.md"
    args.output = args.output or RESULTS
    return args


def _post(url: str, body: bytes) -> Any:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json", "Accept": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        return orjson.loads(answer.read())


def _first_difference(a: Any, b: Any, path: str = "$") -> str | None:
    if type(a) is not type(b):
        return f"{path}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, dict):
        for key in sorted(a.keys() | b.keys()):
            if key not in a or key not in b:
                return f"{path}.{key}: only in the {'first' if key in a else 'second'}"
            if found := _first_difference(a[key], b[key], f"{path}.{key}"):
                return found
    elif isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if found := _first_difference(x, y, f"{path}[{i}]"):
                return found
    elif a != b:
        return f"{path}: {a!r} vs {b!r}"
    return None


def _verify(targets: dict[str, str], body: bytes) -> None:
    """Each server's answer, parsed, must equal the orjson baseline's: same work, same bytes out."""
    expected = _post(targets[report.REFERENCE], body)
    for name, url in targets.items():
        got = _post(url, body)
        if difference := _first_difference(got, expected):
            raise SystemExit(
                f"bench: ABORT: {name}'s answer differs from {report.REFERENCE}'s at {difference}"
            )
    edges = len(expected["data"]["products"]["edges"])
    print(f"bench: all {len(targets)} servers answer the same JSON ({edges} products, {len(body)} B request)")


def _on_sigterm(_signum: int, _frame: Any) -> NoReturn:
    raise KeyboardInterrupt  # unwinds through the `with Servers` block, which stops them


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with SIGINT ignored
    data_dir = WORK / "db"
    print("bench: seeding a fresh demo database ...", flush=True)
    database = servers.prepare_database(data_dir)
    version = report.commit()

    print(f"bench: in-process breakdown ({args.runs} runs per step) ...", flush=True)
    # Settings() would read the caller's GATEWAY_* variables too: the in-process app gets none.
    for key in [k for k in os.environ if k.startswith("GATEWAY_")]:
        del os.environ[key]
    inproc = asyncio.run(inprocess.measure(data_dir, args.runs))

    tool = load.choose_tool(WORK, args.threads, args.connections, not args.no_install, args.tool)
    body = listing_body()
    description = tool.describe(args.seconds) + f"; {args.rounds} rounds, interleaved"
    run = report.Run(description, version, [], inproc, load_before=report.load_average())
    with servers.Servers(WORK / "logs") as running:
        gateways = [
            running.gateway(name, data_dir, **settings) for name, settings in gateway_variants().items()
        ]
        baseline = running.baseline(database)
        for server in [*gateways, baseline]:
            server.wait_ready()
        targets = {s.name: s.url("/graphql") for s in gateways}
        targets |= {"baseline-orjson": baseline.url("/orjson"), "baseline-json": baseline.url("/json")}
        run.servers = measured = [report.Measured(name) for name in targets]
        _verify(targets, body)

        print(f"bench: warm-up, then {args.rounds} x {args.seconds:g} s per server with {tool.version}")
        for m in measured:
            running.wait_idle()
            tool.run(targets[m.name], body, min(2.0, args.seconds / 2))
        for round_no in range(1, args.rounds + 1):
            for m in measured:
                running.wait_idle()
                result = tool.run(targets[m.name], body, args.seconds)
                m.rounds.append(result)
                print(
                    f"  round {round_no} {m.name:<17} {result.requests_per_s:9.1f} req/s  "
                    f"p50 {report.ms(result.p50_ms)} ms  p99 {report.ms(result.p99_ms)} ms  "
                    f"errors {result.errors}",
                    flush=True,
                )

    run.load_after = report.load_average()
    report.print_summary(run)
    report.write_markdown(args.output, run)
    print(f"\nbench: wrote {args.output}")


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except KeyboardInterrupt:
        sys.exit("bench: interrupted; servers stopped")
