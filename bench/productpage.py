"""The product page: one product by handle, its variants and prices, and the stores near a shopper
with their stock, at 1, 10 and 50 concurrent clients on one gateway worker (latency, not req/s)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa

from adapters.store.tables import products
from bench.load import LoadResult

CLIENTS = (1, 10, 50)
TARGET_CLIENTS, TARGET_P99_MS = 10, 25.0  # the target: p99 under 25 ms at 10 clients
# As shipped (a response-cache hit), records from the entity cache (a page new to the response
# cache), and every request reading the database.
SERVERS = ("gateway", "gateway-entity-cache", "gateway-nocache")

QUERY = (
    "query ProductPage($handle: String!) { product(handle: $handle) { id title handle "
    "priceRange { minVariantPrice { amount currencyCode } maxVariantPrice { amount currencyCode } } "
    "variants { id sku title price { amount currencyCode } "
    "storeAvailability(near: {latitude: 47.61, longitude: -122.34}, first: 5) "
    "{ available distanceKm pickupReadyBy location { name } } } } }"
)


def first_handle(database: Path) -> str:
    """The handle of the demo catalog's first product (its ids and handles are deterministic)."""
    engine = sa.create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as conn:
            handle = conn.execute(sa.select(products.c.handle).order_by(products.c.id).limit(1)).scalar()
    finally:
        engine.dispose()
    if handle is None:
        raise SystemExit("bench: ABORT: the demo database has no product")
    return str(handle)


def body(handle: str) -> bytes:
    return orjson.dumps({"query": QUERY, "operationName": "ProductPage", "variables": {"handle": handle}})


@dataclass
class PageLatency:
    server: str
    clients: int
    rounds: list[LoadResult] = field(default_factory=list)

    def median(self, which: str) -> float | None:
        values = sorted(v for r in self.rounds if (v := getattr(r, which)) is not None)
        if not values:
            return None
        middle = len(values) // 2
        return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.rounds)


def measure(
    tool: Any,
    urls: dict[str, str],
    request: bytes,
    seconds: float,
    rounds: int,
    wait_idle: Callable[[], None],
) -> list[PageLatency]:
    """Rounds interleaved over client counts and servers; each server warmed once first."""
    results = [PageLatency(s, c) for c in CLIENTS for s in urls]
    for url in urls.values():
        wait_idle()
        tool.run(url, request, min(1.0, seconds / 2), connections=CLIENTS[-1], name="product-page")
    for round_no in range(1, rounds + 1):
        for result in results:
            wait_idle()
            got = tool.run(
                urls[result.server], request, seconds, connections=result.clients, name="product-page"
            )
            result.rounds.append(got)
            print(
                f"  round {round_no} product page {result.server:<20} c{result.clients:<3} "
                f"{got.requests_per_s:8.1f} req/s  p50 {_ms(got.p50_ms)} ms  p99 {_ms(got.p99_ms)} ms  "
                f"errors {got.errors}",
                flush=True,
            )
    return results


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
