"""Subscription fan-out: N idle websocket subscribers, one stock change, how fast all hear it.

    python -m bench.subscriptions                          # 1,000, 5,000 and 10,000 subscribers
    python -m bench.subscriptions --sizes 1000 --rounds 5
    python -m bench.subscriptions --redis redis://127.0.0.1:6379/14   # also: subscribers on B,
                                                                      # the change made on A

A gateway (`omnigate serve`, one uvicorn worker) runs on a fresh demo database; one client
process (this one, one event loop) opens N graphql-transport-ws connections, each subscribed
to `stockChanged` of one variant at one store, and waits until /metrics shows N subscriptions.
Then, per round, it posts one `inventoryAdjust` and records, for every subscriber, the time
from just before the mutation was sent to the arrival of its push. It prints delivery latency
(p50, p99, max), how many were reached, the server's CPU time per event (user + system, from
/proc: steadier than latency on a shared machine), and its resident memory per idle subscriber
(RSS growth from before the connections to after, divided by N: the websocket, the protocol
handler, the subscription's task and its queue).

`python -m bench` calls `figures()`, which returns the same figures as a dict and a markdown
section for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import statistics
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import websockets

from bench.servers import Server, Servers, clean_env, free_port, omnigate_command, prepare_database

TOKEN = "bench-integration-token"
VARIANT, LOCATION = "UHJvZHVjdFZhcmlhbnQ6MQ==", "TG9jYXRpb246MQ=="  # variant 1 at Seattle
SUBSCRIBE = {
    "query": "subscription ($v: [ID!], $l: [ID!]) { stockChanged(variantIds: $v, locationIds: $l) "
    "{ onHand } }",
    "variables": {"v": [VARIANT], "l": [LOCATION]},
}
ADJUST = "mutation ($input: InventoryAdjustInput!) { inventoryAdjust(input: $input) { userErrors { code } } }"


def rss_kib(server: Server) -> int:
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) if found else 0


def cpu_ms(server: Server) -> float:
    fields = Path(f"/proc/{server.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")  # utime + stime


def subscriptions(server: Server) -> int:
    with urllib.request.urlopen(server.url("/metrics"), timeout=10) as answer:
        text = answer.read().decode()
    found = re.search(r"^omnigate_active_subscriptions (\S+)$", text, re.MULTILINE)
    return int(float(found.group(1))) if found else -1


def adjust(server: Server, on_hand: int) -> None:
    change = {"variantId": VARIANT, "locationId": LOCATION, "onHand": on_hand}
    variables = {"input": {"reason": "CYCLE_COUNT", "changes": [change]}}
    body = json.dumps({"query": ADJUST, "variables": variables})
    request = urllib.request.Request(
        server.url("/graphql"),
        data=body.encode(),
        headers={"content-type": "application/json", "authorization": f"Bearer {TOKEN}"},
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        assert json.loads(answer.read())["data"]["inventoryAdjust"]["userErrors"] == []


class Round:
    """Arrivals of one push: set when every subscriber has it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.count = 0
        self.everyone = asyncio.Event()

    def arrived(self) -> None:
        self.count += 1
        if self.count == self.size:
            self.everyone.set()


class Subscriber:
    def __init__(self) -> None:
        self.socket: Any = None
        self.arrivals: list[float] = []
        self.reader: asyncio.Task[None] | None = None
        self.round: Round | None = None

    async def open(self, url: str) -> None:
        self.socket = await websockets.connect(
            url, subprotocols=["graphql-transport-ws"], open_timeout=120, ping_interval=None,
            max_queue=None,
        )  # fmt: skip
        await self.socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await self.socket.recv())["type"] == "connection_ack"
        await self.socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": SUBSCRIBE}))
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        async for message in self.socket:
            # Not json.loads: with 10,000 sockets in one client process, parsing would be most of
            # what is measured. Pushes are `next` messages, as the server writes them.
            if '"type":"next"' in message:
                self.arrivals.append(time.perf_counter())
                if self.round is not None:
                    self.round.arrived()


async def until(condition: Any, tries: int = 3000) -> None:
    for _ in range(tries):
        if condition():
            return
        await asyncio.sleep(0.2)
    raise SystemExit("bench: the server never reached the expected number of subscriptions")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


async def measure(publisher: Server, listener: Server, size: int, rounds: int) -> dict[str, Any]:
    before = rss_kib(listener)
    subscribers = [Subscriber() for _ in range(size)]
    gate = asyncio.Semaphore(200)
    ws_url = listener.url("/graphql").replace("http", "ws", 1)

    async def open_one(s: Subscriber) -> None:
        async with gate:
            await s.open(ws_url)

    await asyncio.gather(*(open_one(s) for s in subscribers))
    await until(lambda: subscriptions(listener) == size)
    await asyncio.sleep(1)  # let the server settle before reading its memory
    per_subscriber_kib = (rss_kib(listener) - before) / size

    results, cpu = [], []
    for n in range(rounds):
        this = Round(size)
        for s in subscribers:
            s.round = this
        cpu_before = cpu_ms(listener)
        start = time.perf_counter()
        await asyncio.to_thread(adjust, publisher, 1000 + n)
        with contextlib.suppress(TimeoutError):  # printed as fewer reached
            await asyncio.wait_for(this.everyone.wait(), 30)
        cpu.append(cpu_ms(listener) - cpu_before)
        latencies = [(s.arrivals[n] - start) * 1000 for s in subscribers if len(s.arrivals) > n]
        results.append(latencies)
        await asyncio.sleep(0.5)
    for s in subscribers:
        await s.socket.close()
    for s in subscribers:
        if s.reader is not None:
            await asyncio.gather(s.reader, return_exceptions=True)
    await until(lambda: subscriptions(listener) == 0)
    every = [ms for latencies in results for ms in latencies]
    return {
        "size": size,
        "reached": min(len(r) for r in results),
        "p50": percentile(every, 50),
        "p99": percentile(every, 99),
        "max": max(every) if every else float("nan"),
        "cpu_ms": statistics.median(cpu),
        "kib": per_subscriber_kib,
    }


def start_gateway(servers: Servers, name: str, data_dir: Path, redis: str | None, prefix: str = "") -> Server:
    port = free_port()
    env = clean_env(
        GATEWAY_DATA_DIR=str(data_dir),
        GATEWAY_LOG_LEVEL="warning",
        GATEWAY_INTEGRATION_TOKEN=TOKEN,
        # Redis pub/sub channels are shared by every database of a server: a run's own prefix.
        **({"GATEWAY_REDIS_URL": redis, "GATEWAY_REDIS_PREFIX": prefix} if redis else {}),
    )
    argv = [omnigate_command(), "serve", "--port", str(port)]
    server = servers.start(name, argv, env, port)
    server.wait_ready()
    return server


HEADS = ("subscribers", "reached", "p50 ms", "p99 ms", "max ms", "KiB/sub", "CPU ms/event")


def _row(r: dict[str, Any], thousands: str = "") -> tuple[str, ...]:
    """The printed row: plain numbers, in the order `python -m bench` reads them."""
    return (f"{r['size']:{thousands}d}", f"{r['reached']:{thousands}d}", f"{r['p50']:.1f}", f"{r['p99']:.1f}",
            f"{r['max']:.1f}", f"{r['kib']:.1f}", f"{r['cpu_ms']:.0f}")  # fmt: skip


async def collect(sizes: list[int], rounds: int, redis: str | None = None) -> dict[str, Any]:
    """{"setups": [{"title", "rows": [{size, reached, p50, p99, max, cpu_ms, kib}]}], ...}; prints
    each row as it is measured."""
    figures: dict[str, Any] = {"sizes": sizes, "rounds": rounds, "setups": []}
    with tempfile.TemporaryDirectory() as tmp, Servers(Path(tmp) / "logs") as servers:
        data_dir = Path(tmp) / "data"
        prepare_database(data_dir)
        gateway = start_gateway(servers, "gateway", data_dir, None)
        setups = [("one process", gateway, gateway)]
        if redis:
            prefix = f"bench-{uuid.uuid4().hex[:12]}:"
            a = start_gateway(servers, "gateway-a", data_dir, redis, prefix)
            b = start_gateway(servers, "gateway-b", data_dir, redis, prefix)
            setups.append(("two processes via Redis (publish on A, subscribers on B)", a, b))
        for title, publisher, listener in setups:
            print(f"\n{title}, {rounds} round(s) per size")
            print(" ".join(f"{h:>12}" for h in HEADS))
            rows: list[dict[str, Any]] = []
            figures["setups"].append({"title": title, "rows": rows})
            for size in sizes:
                rows.append(await measure(publisher, listener, size, rounds))
                print(" ".join(f"{c:>12}" for c in _row(rows[-1])), flush=True)
    return figures


def markdown(figures: dict[str, Any]) -> str:
    lines = [
        "## Subscriptions: one stock change pushed to N idle websocket subscribers",
        "",
        f"One client process on loopback, `stockChanged` of one variant at one store, "
        f"{figures['rounds']} round(s) per size; latency from just before the mutation is sent to each "
        "push; CPU is the server's (user + system) per event; memory is RSS growth per idle subscriber. "
        "Target: 10,000 subscribers on one 2-core machine, all reached within 1 s.",
    ]
    for setup in figures["setups"]:
        lines += ["", f"**{setup['title']}**", "", "| " + " | ".join(HEADS) + " |",
                  "|" + "---:|" * len(HEADS)]  # fmt: skip
        lines += ["| " + " | ".join(_row(r, ",")) + " |" for r in setup["rows"]]
    return "\n".join(lines) + "\n"


def _run(work: Any) -> Any:
    """The client's one event loop: uvloop, as the server's (uvicorn's `auto`), when installed."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(work)
    return uvloop.run(work)


def figures(
    sizes: tuple[int, ...] = (1000, 5000, 10000), rounds: int = 3, redis: str | None = None
) -> tuple[dict[str, Any], str]:
    """For `python -m bench`: the figures as a dict, and their markdown section."""
    found = _run(collect(list(sizes), rounds, redis))
    return found, markdown(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 10000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--redis", help="also measure two gateway processes through this Redis")
    args = parser.parse_args()
    _run(collect(args.sizes, args.rounds, args.redis))


if __name__ == "__main__":
    main()
