"""A listing whose arguments change on every request: response-cache misses, entity-cache hits.

    python -m bench.varied --seconds 10

A storefront's search and category pages rarely send the same request twice: search terms,
categories, sort orders, page sizes and cursors vary. One gateway as shipped (`omnigate serve`,
response cache on) on a fresh demo database; `--clients` keep-alive clients send listings of
20 products (the bench listing's fields: prices and stock at every location) built from the
catalog's words and categories, each request's arguments different from every earlier one, so
the response cache never answers: the page of ids is one SQL statement (a search or a keyset
page), the products, variants and stock come from the entity cache. Then, on the same gateway,
the same clients send one fixed listing of 20 (response-cache hits) and the report gives both
rates and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.listing import listing_query
from bench.writes import HttpConnection, Setup, _percentile, _served

PAGE = """
query Page($q: String, $c: String, $s: ProductSortKeys!, $r: Boolean!, $n: Int, $a: String) {
  products(query: $q, category: $c, sortKey: $s, reverse: $r, first: $n, after: $a) {
    edges { cursor node { id title handle priceRange { minVariantPrice { amount currencyCode } }
      variants { id sku title price { amount currencyCode } quantityAvailable
        inventory { onHand reserved available location { id name } } } } }
    pageInfo { hasNextPage endCursor } } }"""


def varied_arguments(words: list[str], categories: list[str]) -> Iterator[dict[str, Any]]:
    """Never the same variables twice (sizes 12-27 times sorts times filters: tens of thousands)."""
    filters: list[dict[str, Any]] = [{"q": w} for w in words] + [{"c": c} for c in categories] + [{}]
    sorts = ("ID", "TITLE", "CREATED_AT")
    for n, s, r, where in itertools.product(range(12, 28), sorts, (False, True), filters):
        yield {"q": None, "c": None, "a": None, **where, "s": s, "r": r, "n": n}


async def _vocabulary(port: int) -> tuple[list[str], list[str]]:
    connection = HttpConnection("127.0.0.1", port)
    data = await connection.post("{ categories products(first: 250) { nodes { title } } }", {})
    connection.close()
    words = sorted({w.lower() for n in data["products"]["nodes"] for w in n["title"].split() if len(w) > 3})
    return words, data["categories"]


async def _load(
    port: int, clients: int, seconds: float, bodies: Iterator[tuple[str, dict[str, Any]]]
) -> dict[str, float]:
    connections = [HttpConnection("127.0.0.1", port) for _ in range(clients)]
    times: list[float] = []
    deadline = time.perf_counter() + seconds

    async def client(connection: HttpConnection) -> None:
        while time.perf_counter() < deadline:
            query, variables = next(bodies)
            started = time.perf_counter()
            await connection.post(query, variables)
            times.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client(c) for c in connections))
    elapsed = time.perf_counter() - started
    for c in connections:
        c.close()
    return {"requests_per_s": len(times) / elapsed, "p50_ms": _percentile(times, 0.5),
            "p99_ms": _percentile(times, 0.99), "requests": len(times)}  # fmt: skip


async def measure(port: int, clients: int, seconds: float) -> dict[str, dict[str, float]]:
    words, categories = await _vocabulary(port)
    arguments = varied_arguments(words, categories)
    varied = ((PAGE, variables) for variables in arguments)
    # Warm the entity cache (products, variants, stock, locations) with every product once.
    await HttpConnection("127.0.0.1", port).post(listing_query(250), {})
    found = {"varied": await _load(port, clients, seconds, varied)}
    fixed = itertools.repeat((listing_query(20), {}))
    await _load(port, clients, 1.0, fixed)
    found["fixed"] = await _load(port, clients, seconds, fixed)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="omnigate-varied-"))
    url = f"sqlite+aiosqlite:///{work / 'varied.db'}"
    from bench.writes import _seed

    asyncio.run(_seed(url))
    with _served(Setup("varied", url, 1), 0, work) as (port, _):
        found = asyncio.run(measure(port, args.clients, args.seconds))
    varied, fixed = found["varied"], found["fixed"]
    print(f"varied arguments (response-cache misses): {varied['requests_per_s']:.1f} req/s, "
          f"p50 {varied['p50_ms']:.1f} ms, p99 {varied['p99_ms']:.1f} ms, "
          f"{varied['requests']:.0f} distinct requests")  # fmt: skip
    print(f"one fixed listing of 20 (response-cache hits): {fixed['requests_per_s']:.1f} req/s, "
          f"p50 {fixed['p50_ms']:.1f} ms, p99 {fixed['p99_ms']:.1f} ms")  # fmt: skip
    print(f"varied / fixed: {varied['requests_per_s'] / fixed['requests_per_s']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
