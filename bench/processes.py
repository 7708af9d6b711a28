"""More processes do more: `omnigate serve --workers 1` against `--workers 2` on PostgreSQL +
Redis, on this machine.

    python -m bench.processes --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test \\
        --redis redis://127.0.0.1:6379/15 --seconds 10

For each worker count, a gateway on a scratch demo database (response cache off: the listing
is answered from the entity cache, the path a query new to the response cache takes, and the
one that costs CPU), then:
- the listing (bench/listing.py's 50-product page) from wrk (or bench.pyload), `--connections`
  keep-alive connections for `--seconds`: req/s and p99;
- a mixed load from this process: `--clients` shoppers, each looping over three listing pages of
  20 products, one cart add and one cart read: requests/s and p99 of a request.
It prints each, and the 2-process figure over the 1-process one. The load generators share the
machine's cores with the gateways, so the ratio is what this machine gives, not the ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import load
from bench.checkout import ADD_AND_READ, CART, VARIANT
from bench.listing import WORK, listing_body, listing_query
from bench.writes import HttpConnection, Setup, _percentile, _scratch, _served
from schema.ids import to_global_id


async def mixed(port: int, clients: int, seconds: float) -> dict[str, float]:
    add, read = ADD_AND_READ
    page = listing_query(20)
    line = {"variantId": to_global_id("ProductVariant", VARIANT), "fulfillment": {"mode": "SHIP"}}
    connections = [HttpConnection("127.0.0.1", port) for _ in range(clients)]
    carts = [(await c.post(CART, {"input": {"lines": []}}))["cartCreate"]["cart"]["id"] for c in connections]
    times: list[float] = []
    deadline = time.perf_counter() + seconds

    async def shopper(connection: HttpConnection, cart: str) -> None:
        steps: list[tuple[str, dict[str, Any]]] = [(page, {})] * 3 + [
            (add, {"cart": cart, "line": line}), (read, {"cart": cart})
        ]
        while time.perf_counter() < deadline:
            for query, variables in steps:
                started = time.perf_counter()
                await connection.post(query, variables)
                times.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(shopper(c, cart) for c, cart in zip(connections, carts, strict=True)))
    elapsed = time.perf_counter() - started
    for c in connections:
        c.close()
    return {"requests_per_s": len(times) / elapsed, "p99_ms": _percentile(times, 0.99)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("GATEWAY_TEST_DATABASE_URL"))
    parser.add_argument("--redis", default=os.environ.get("GATEWAY_TEST_REDIS_URL"))
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16, help="listing connections (wrk)")
    parser.add_argument("--clients", type=int, default=16, help="mixed-load shoppers")
    parser.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto")
    args = parser.parse_args(argv)
    if not args.database_url or not args.redis:
        print("processes: skipped (needs --database-url and --redis, or GATEWAY_TEST_DATABASE_URL/REDIS_URL)")
        return 0
    WORK.mkdir(parents=True, exist_ok=True)
    tool = load.choose_tool(WORK, 1, args.connections, False, args.tool)
    print(f"listing load: {tool.describe(args.seconds)}; mixed load: {args.clients} shoppers in Python")
    work = Path(tempfile.mkdtemp(prefix="omnigate-processes-"))
    found: dict[int, dict[str, Any]] = {}
    body = listing_body()
    with _scratch(args.database_url, work) as url:
        for workers in (1, 2):
            setup = Setup(f"{workers}", url, workers, args.redis)
            with _served(setup, 0, work, extra={"GATEWAY_RESPONSE_CACHE": "false"}) as (port, _):
                address = f"http://127.0.0.1:{port}/graphql"
                tool.run(address, body, min(2.0, args.seconds / 2))  # warm every worker's caches
                listing = tool.run(address, body, args.seconds)
                shoppers = asyncio.run(mixed(port, args.clients, args.seconds))
            found[workers] = {"listing": listing, "mixed": shoppers}
            name = "process" if workers == 1 else "processes"
            print(
                f"{workers} {name}: listing {listing.requests_per_s:.1f} req/s, "
                f"p99 {listing.p99_ms or 0:.1f} ms, {listing.errors} errors; "
                f"mixed {shoppers['requests_per_s']:.1f} req/s, "
                f"p99 {shoppers['p99_ms']:.1f} ms",
                flush=True,
            )
    one, two = found[1], found[2]
    reads = two["listing"].requests_per_s / one["listing"].requests_per_s
    both = two["mixed"]["requests_per_s"] / one["mixed"]["requests_per_s"]
    print(f"2 processes over 1: listing {reads:.2f}x, mixed {both:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
