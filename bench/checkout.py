"""Cart add + read, then checkout throughput under contention (N clients race for a few units of
one SKU at one store).

    python -m bench.checkout                       # embedded SQLite in a temporary directory
    python -m bench.checkout --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test

It seeds the demo retailer into a scratch database (a new one next to the given PostgreSQL
database, dropped afterwards), puts `--units` of one variant in one store, fills `--carts` carts
with a ship-from-store line for it, and has `--clients` concurrent clients check them out
through the gateway's ASGI app in this process (GraphQL parsing, validation, auth, the
allocation transactions and the payment port's test provider, no network). It prints:

- cart add + read: each client adds a line to a cart of its own and reads the cart back, over and
  over; p50/p99 of the pair and pairs/s,
- orders/s: units sold divided by the time until the last unit sold (the contended phase),
- checkouts/s: all checkout calls (sold or refused INSUFFICIENT_STOCK) divided by the run time,
- and whether exactly `--units` orders were made (it exits non-zero if not).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.store import open_store
from gateway.app import create_app
from gateway.settings import Settings
from schema.ids import to_global_id

VARIANT, STORE = 7, 1  # a variant of the demo catalog; Seattle ships from store
CART = """mutation ($input: CartCreateInput!) { cartCreate(input: $input) { cart { id } } }"""
CHECKOUT = """
mutation ($cart: ID!, $key: String!) {
  checkoutComplete(cartId: $cart, payment: {method: CARD, cardToken: "tok_visa"},
                   idempotencyKey: $key) { order { id } userErrors { code } }
}"""
ADD_AND_READ = (
    """mutation ($cart: ID!, $line: CartLineInput!) { cartLinesAdd(cartId: $cart, lines: [$line]) {
  userErrors { code } } }""",
    """query ($cart: ID!) { cart(id: $cart) { id totalQuantity lines { id quantity available
  variant { id sku } unitPrice { amount currencyCode } total { amount } } subtotal { amount } } }""",
)
ADJUST = """
mutation ($input: InventoryAdjustInput!) { inventoryAdjust(input: $input) { userErrors { code } } }
"""
TOKEN = "bench-integration-token"


async def _admin(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()


async def _post(client: httpx.AsyncClient, query: str, variables: dict, **headers: str) -> Any:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(body["errors"])
    return body["data"]


async def run(url: str, clients: int, units: int, carts: int, latency: float) -> dict[str, Any]:
    store = open_store(url)
    await store.migrate()
    await store.seed_demo()
    await store.close()
    settings = Settings(
        database_url=url, integration_token=TOKEN, seed_demo=False, reservation_sweep_seconds=0
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        app.state.gateway.payments.cards.latency = latency
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            variant, location = (
                to_global_id("ProductVariant", VARIANT),
                to_global_id("Location", STORE),
            )
            change = {"variantId": variant, "locationId": location, "onHand": units}
            await _post(
                client,
                ADJUST,
                {"input": {"reason": "CYCLE_COUNT", "changes": [change]}},
                Authorization=f"Bearer {TOKEN}",
            )
            line = {
                "variantId": variant,
                "fulfillment": {"mode": "SHIP_FROM_STORE", "locationId": location},
            }
            queue: asyncio.Queue[str] = asyncio.Queue()
            for _ in range(carts):
                data = await _post(client, CART, {"input": {"lines": [line]}})
                queue.put_nowait(data["cartCreate"]["cart"]["id"])

            cart_pairs = await _cart_add_and_read(client, line, clients, seconds=3.0)

            sold: list[float] = []
            refused = 0

            async def shopper() -> None:
                nonlocal refused
                while not queue.empty():
                    cart = queue.get_nowait()
                    data = await _post(client, CHECKOUT, {"cart": cart, "key": uuid.uuid4().hex})
                    result = data["checkoutComplete"]
                    if result["order"] is not None:
                        sold.append(time.perf_counter())
                    elif [e["code"] for e in result["userErrors"]] == ["INSUFFICIENT_STOCK"]:
                        refused += 1
                    else:
                        raise RuntimeError(result["userErrors"])

            start = time.perf_counter()
            await asyncio.gather(*(shopper() for _ in range(clients)))
            elapsed = time.perf_counter() - start
    sell_out = (max(sold) - start) if sold else float("nan")
    return {
        "orders": len(sold),
        "refused": refused,
        "elapsed": elapsed,
        "orders_per_s": len(sold) / sell_out,
        "checkouts_per_s": (len(sold) + refused) / elapsed,
        **cart_pairs,
    }


async def _cart_add_and_read(
    client: httpx.AsyncClient, line: dict[str, Any], clients: int, seconds: float
) -> dict[str, float]:
    """Each client: its own cart, then add a line and read the cart back until time is up."""
    add, read = ADD_AND_READ
    other = {**line, "fulfillment": {"mode": "SHIP"}}
    carts = []
    for _ in range(clients):
        carts.append((await _post(client, CART, {"input": {"lines": []}}))["cartCreate"]["cart"]["id"])
    times: list[float] = []
    deadline = time.perf_counter() + seconds

    async def shopper(cart: str) -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            data = await _post(client, add, {"cart": cart, "line": other})
            if data["cartLinesAdd"]["userErrors"]:
                raise RuntimeError(data["cartLinesAdd"]["userErrors"])
            await _post(client, read, {"cart": cart})
            times.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(shopper(c) for c in carts))
    elapsed = time.perf_counter() - started
    times.sort()
    return {
        "cart_pairs_per_s": len(times) / elapsed,
        "cart_p50_ms": times[len(times) // 2] * 1000,
        "cart_p99_ms": times[min(len(times) - 1, int(len(times) * 0.99))] * 1000,
    }


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL: a scratch database is made beside it")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--carts", type=int, default=300)
    parser.add_argument("--latency", type=float, default=0.02, help="the provider's, in seconds")
    args = parser.parse_args(argv)

    scratch = None
    if args.database_url:
        scratch = f"omnigate_bench_{uuid.uuid4().hex[:8]}"
        await _admin(args.database_url, f'CREATE DATABASE "{scratch}"')
        url = (
            make_url(args.database_url).set(database=scratch).render_as_string(hide_password=False)
        )
        backend = "postgresql"
    else:
        folder = tempfile.mkdtemp(prefix="omnigate-bench-")
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        backend = "sqlite"
    try:
        result = await run(url, args.clients, args.units, args.carts, args.latency)
    finally:
        if scratch is not None:
            await _admin(args.database_url, f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
    print(
        f"{backend}: cart add + read, {args.clients} clients: {result['cart_pairs_per_s']:.1f} pairs/s, "
        f"p50 {result['cart_p50_ms']:.1f} ms, p99 {result['cart_p99_ms']:.1f} ms"
    )
    print(
        f"{backend}: {args.clients} clients, {args.units} units, {args.carts} carts, "
        f"provider latency {args.latency * 1000:.0f} ms: "
        f"{result['orders_per_s']:.1f} orders/s while stock lasted, "
        f"{result['checkouts_per_s']:.1f} checkouts/s overall "
        f"({result['orders']} orders, {result['refused']} refused INSUFFICIENT_STOCK, "
        f"{result['elapsed']:.2f} s)"
    )
    if result["orders"] != args.units:
        print(f"OVERSOLD OR UNDERSOLD: {result['orders']} orders for {args.units} units")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
