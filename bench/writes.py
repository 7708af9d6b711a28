"""The write path as deployed: `omnigate serve` (one process, then two behind one port) on
PostgreSQL, and the embedded SQLite beside it, under 50 clients; `pgbench` on the same server as
the physical reference.

    python -m bench.writes --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test \\
        --redis redis://127.0.0.1:6379/15

- pgbench: its TPC-B-like script (`pgbench -i -s SCALE` into a scratch database of its own, then
  `--clients` clients for `--seconds`), transactions per second;
- for each setup, a scratch database seeded with the demo retailer and a gateway serving it, and
  this process as the load generator (raw keep-alive HTTP/1.1, one connection per client, so
  that the client costs the 2 shared cores little):
  - cart add + read: each client adds a line to its own cart and reads the cart back, again and
    again for `--seconds`; pairs/s and p50/p99 of a pair;
  - checkout under contention: `--units` of one variant at one store, `--carts` carts holding one
    ship-from-store line of it, `--clients` clients checking them out (the card provider takes
    `--latency-ms` per call); orders/s until the stock is gone, checkouts/s over all calls (sold
    or refused INSUFFICIENT_STOCK), p50/p99 of a call, and checkouts/s over pgbench's tps.
It exits non-zero if a setup sold more or fewer than `--units` (an oversell is never a figure).
Two processes need `--redis` (they share events and caches there); without it that setup is
skipped, and so is everything PostgreSQL without `--database-url`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.engine import make_url

from bench.checkout import ADD_AND_READ, ADJUST, CART, CHECKOUT, STORE, TOKEN, VARIANT, _admin
from bench.servers import clean_env, free_port, omnigate_command
from schema.ids import to_global_id

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 0.25  # checkouts/s over pgbench's tps
TARGET_P99_MS = 100.0  # cart add + read at 50 clients, one process


class HttpConnection:
    """One keep-alive HTTP/1.1 connection posting JSON: what a load generator needs, no more."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, query: str, variables: dict[str, Any], token: str | None = None) -> Any:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        body = orjson.dumps({"query": query, "variables": variables})
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        head = (
            f"POST /graphql HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
            f"Accept: application/json\r\n{auth}Content-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        lines = (await self.reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = next(
            int(ln.split(b":", 1)[1]) for ln in lines[1:] if ln.lower().startswith(b"content-length:")
        )
        answer = orjson.loads(await self.reader.readexactly(length))
        if status != 200 or answer.get("errors"):
            raise RuntimeError(f"HTTP {status}: {answer}")
        return answer["data"]

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


@dataclass
class Setup:
    name: str  # "postgresql, 1 process"
    database_url: str
    workers: int
    redis_url: str | None = None


def group_cpu_seconds(group: int) -> float:
    """CPU time (user + system) of every process in a process group so far (Linux /proc), so
    that a figure per operation holds on a busy machine, where wall-clock ones do not."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:  # fields after the name: state, ppid, pgrp, ...
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] * 1000 if ordered else float("nan")


@contextmanager
def _served(
    setup: Setup, latency_ms: float, work: Path, redis_prefix: str | None = None,
    extra: dict[str, str] | None = None,
) -> Iterator[tuple[int, int]]:
    """A gateway on this setup: (its port, its process group). Gateways given the same
    `redis_prefix` share events and caches."""
    port = free_port()
    prefix = redis_prefix or f"bench{uuid.uuid4().hex[:8]}:"
    env = clean_env(
        GATEWAY_DATABASE_URL=setup.database_url,
        GATEWAY_DATA_DIR=str(work / f"data-{port}"),
        GATEWAY_SEED_DEMO="false",
        GATEWAY_DEV="true",  # no rate limits: 50 clients from one address would exhaust them
        GATEWAY_INTEGRATION_TOKEN=TOKEN,
        GATEWAY_RESERVATION_SWEEP_SECONDS="0",
        GATEWAY_LOG_LEVEL="warning",
        GATEWAY_PAYMENTS_TEST_LATENCY_MS=str(latency_ms),
        **({"GATEWAY_REDIS_URL": setup.redis_url, "GATEWAY_REDIS_PREFIX": prefix} if setup.redis_url else {}),
        **(extra or {}),
    )  # fmt: skip
    log = (work / f"gateway-{port}.log").open("wb")
    process = subprocess.Popen(
        [omnigate_command(), "serve", "--port", str(port), "--workers", str(setup.workers)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        _wait_ready(port, process, work / f"gateway-{port}.log")
        yield port, process.pid
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()


def _wait_ready(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    import urllib.request

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the gateway exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the gateway did not become ready in 120 s")


async def _cart_add_and_read(port: int, clients: int, seconds: float, group: int) -> dict[str, float]:
    add, read = ADD_AND_READ
    line = {"variantId": to_global_id("ProductVariant", VARIANT), "fulfillment": {"mode": "SHIP"}}
    connections = [HttpConnection("127.0.0.1", port) for _ in range(clients)]
    carts = [(await c.post(CART, {"input": {"lines": []}}))["cartCreate"]["cart"]["id"] for c in connections]
    for c, cart in zip(connections, carts, strict=True):  # warm: plans, pools, caches
        await c.post(add, {"cart": cart, "line": line})
        await c.post(read, {"cart": cart})
    times: list[float] = []
    cpu, server_cpu = time.process_time(), group_cpu_seconds(group)
    deadline = time.perf_counter() + seconds

    async def shopper(connection: HttpConnection, cart: str) -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            data = await connection.post(add, {"cart": cart, "line": line})
            if data["cartLinesAdd"]["userErrors"]:
                raise RuntimeError(data["cartLinesAdd"]["userErrors"])
            await connection.post(read, {"cart": cart})
            times.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(shopper(c, cart) for c, cart in zip(connections, carts, strict=True)))
    elapsed = time.perf_counter() - started
    for c in connections:
        c.close()
    return {
        "pairs_per_s": len(times) / elapsed,
        "p50_ms": _percentile(times, 0.50),
        "p99_ms": _percentile(times, 0.99),
        "client_cpu_ms": (time.process_time() - cpu) * 1000 / max(len(times), 1),
        "server_cpu_ms": (group_cpu_seconds(group) - server_cpu) * 1000 / max(len(times), 1),
    }


async def _checkouts(port: int, clients: int, units: int, carts: int, group: int) -> dict[str, float]:
    variant, location = to_global_id("ProductVariant", VARIANT), to_global_id("Location", STORE)
    setup = HttpConnection("127.0.0.1", port)
    change = {"variantId": variant, "locationId": location, "onHand": units}
    await setup.post(ADJUST, {"input": {"reason": "CYCLE_COUNT", "changes": [change]}}, token=TOKEN)
    line = {"variantId": variant, "fulfillment": {"mode": "SHIP_FROM_STORE", "locationId": location}}
    queue: asyncio.Queue[str] = asyncio.Queue()
    for _ in range(carts):
        queue.put_nowait((await setup.post(CART, {"input": {"lines": [line]}}))["cartCreate"]["cart"]["id"])
    setup.close()
    sold: list[float] = []
    calls: list[float] = []
    refused = 0

    async def shopper(connection: HttpConnection) -> None:
        nonlocal refused
        while not queue.empty():
            cart = queue.get_nowait()
            started = time.perf_counter()
            answer = await connection.post(CHECKOUT, {"cart": cart, "key": uuid.uuid4().hex})
            data = answer["checkoutComplete"]
            calls.append(time.perf_counter() - started)
            if data["order"] is not None:
                sold.append(time.perf_counter())
            elif [e["code"] for e in data["userErrors"]] == ["INSUFFICIENT_STOCK"]:
                refused += 1
            else:
                raise RuntimeError(data["userErrors"])

    connections = [HttpConnection("127.0.0.1", port) for _ in range(clients)]
    server_cpu = group_cpu_seconds(group)
    start = time.perf_counter()
    await asyncio.gather(*(shopper(c) for c in connections))
    elapsed = time.perf_counter() - start
    server_cpu = group_cpu_seconds(group) - server_cpu
    for c in connections:
        c.close()
    sell_out = (max(sold) - start) if sold else float("nan")
    return {
        "orders": len(sold),
        "refused": refused,
        "elapsed": elapsed,
        "orders_per_s": len(sold) / sell_out,
        "checkouts_per_s": (len(sold) + refused) / elapsed,
        "p50_ms": _percentile(calls, 0.50),
        "p99_ms": _percentile(calls, 0.99),
        "server_cpu_ms": server_cpu * 1000 / max(len(calls), 1),
    }


def pgbench(database_url: str, clients: int, seconds: float, scale: int) -> tuple[float, str]:
    """TPC-B-like transactions per second on the server behind `database_url`, in a scratch
    database of pgbench's own (never the shared database's tables)."""
    tool = shutil.which("pgbench")
    if tool is None:
        raise RuntimeError("pgbench is not installed (Debian: postgresql-client)")
    url = make_url(database_url)
    scratch = f"omnigate_pgbench_{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "PGPASSWORD": url.password or ""}
    where = ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres"]
    asyncio.run(_admin(database_url, f'CREATE DATABASE "{scratch}"'))
    try:
        subprocess.run([tool, *where, "-i", "-q", "-s", str(scale), scratch], env=env, check=True,
                       capture_output=True)  # fmt: skip
        jobs = str(min(clients, os.cpu_count() or 1))
        run = [tool, *where, "-c", str(clients), "-j", jobs, "-T", str(max(1, round(seconds))), scratch]
        done = subprocess.run(run, env=env, check=True, capture_output=True, text=True)
    finally:
        asyncio.run(_admin(database_url, f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
    found = re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout)
    if found is None:
        raise RuntimeError(f"pgbench said: {done.stdout[-500:]}")
    return float(found.group(1)), f"scale {scale}, {clients} clients, {jobs} threads, {round(seconds)} s"


async def _seed(url: str) -> None:
    from adapters.store import open_store

    store = open_store(url)
    try:
        await store.migrate()
        await store.seed_demo()
    finally:
        await store.close()


@contextmanager
def _scratch(setup_url: str | None, work: Path) -> Iterator[str]:
    """A seeded demo database: beside the given PostgreSQL one, or an SQLite file."""
    if setup_url is None:
        url = f"sqlite+aiosqlite:///{work / f'writes-{uuid.uuid4().hex[:8]}.db'}"
        asyncio.run(_seed(url))
        yield url
        return
    scratch = f"omnigate_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(setup_url, f'CREATE DATABASE "{scratch}"'))
    try:
        url = make_url(setup_url).set(database=scratch).render_as_string(hide_password=False)
        asyncio.run(_seed(url))
        yield url
    finally:
        asyncio.run(_admin(setup_url, f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    database, redis = os.environ.get("GATEWAY_TEST_DATABASE_URL"), os.environ.get("GATEWAY_TEST_REDIS_URL")
    parser.add_argument("--database-url", default=database, help="PostgreSQL, scratch databases beside it")
    parser.add_argument("--redis", default=redis, help="Redis, for two processes")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=5.0, help="cart add + read, and pgbench")
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--carts", type=int, default=300)
    parser.add_argument("--latency-ms", type=float, default=20.0, help="the card provider's")
    parser.add_argument("--pgbench-scale", type=int, default=50)
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args(argv)

    setups: list[tuple[str, str | None, int]] = []
    tps = None
    if args.database_url:
        try:
            tps, how = pgbench(args.database_url, args.clients, args.seconds, args.pgbench_scale)
            print(f"pgbench (TPC-B-like, {how}): {tps:.0f} tps", flush=True)
        except (RuntimeError, subprocess.CalledProcessError) as exc:
            print(f"pgbench: not measured ({exc})", flush=True)
        setups.append(("postgresql, 1 process", args.database_url, 1))
        if args.redis:
            setups.append(("postgresql, 2 processes", args.database_url, 2))
        else:
            print("postgresql, 2 processes: skipped (no --redis)")
    else:
        print("postgresql: skipped (no --database-url or GATEWAY_TEST_DATABASE_URL)")
    if not args.no_sqlite:
        setups.append(("sqlite, 1 process", None, 1))

    wrong = 0
    work = Path(tempfile.mkdtemp(prefix="omnigate-writes-"))
    try:
        for name, base, workers in setups:
            with _scratch(base, work) as url:
                setup = Setup(name, url, workers, args.redis if workers > 1 else None)
                with _served(setup, args.latency_ms, work) as (port, group):
                    pairs = asyncio.run(_cart_add_and_read(port, args.clients, args.seconds, group))
                    print(
                        f"{name}: cart add + read, {args.clients} clients: "
                        f"{pairs['pairs_per_s']:.1f} pairs/s, p50 {pairs['p50_ms']:.1f} ms, "
                        f"p99 {pairs['p99_ms']:.1f} ms; gateway CPU {pairs['server_cpu_ms']:.2f} ms per pair",
                        flush=True,
                    )
                    sold = asyncio.run(_checkouts(port, args.clients, args.units, args.carts, group))
                ratio = f", {sold['checkouts_per_s'] / tps:.3f} of pgbench's tps" if tps else ""
                print(
                    f"{name}: checkout, {args.clients} clients, {args.units} units, {args.carts} carts, "
                    f"provider {args.latency_ms:g} ms: "
                    f"{sold['orders_per_s']:.1f} orders/s while stock lasted, "
                    f"{sold['checkouts_per_s']:.1f} checkouts/s overall{ratio}; "
                    f"p50 {sold['p50_ms']:.1f} ms, p99 {sold['p99_ms']:.1f} ms; "
                    f"gateway CPU {sold['server_cpu_ms']:.2f} ms per checkout "
                    f"({sold['orders']} orders, {sold['refused']} refused INSUFFICIENT_STOCK)",
                    flush=True,
                )
                if sold["orders"] != args.units:
                    print(f"{name}: OVERSOLD OR UNDERSOLD: {sold['orders']} orders for {args.units} units")
                    wrong += 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
