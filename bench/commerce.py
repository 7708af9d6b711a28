"""Carts, a member's orders and `me` with loyalty: the compiled path against strawberry's
standard executor, served.

    python -m bench.commerce --seconds 8 [--database-url postgresql+asyncpg://...]

One gateway (`omnigate serve`, one process) per executor on the same scratch demo database
(PostgreSQL when given, else SQLite), `GATEWAY_COMPILED_EXECUTION` on and off. A member with
10 orders of 3 lines each and a cart of 10 lines (prices, availability, holds) is made first;
then, for each executor, `--clients` keep-alive clients send each query for `--seconds`:
- the storefront's cart: lines with variant, price, totals, status, availability, holds;
- the member's orders page: 10 orders with lines and fulfillments;
- `me` with loyalty (points, tier, the last 10 ledger entries).
It prints req/s and p99 of each, the compiled/standard ratio, and the gateway's CPU time per
request (from /proc, steadier than rates on a busy machine).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench.checkout import ADJUST, CART, CHECKOUT, TOKEN
from bench.writes import HttpConnection, Setup, _percentile, _scratch, _served, group_cpu_seconds
from schema.ids import to_global_id

MEMBER = "bench-member"  # GATEWAY_MEMBER_TOKENS: the demo member m1
QUERIES = {
    "cart (10 lines)": """query ($id: ID!) { cart(id: $id) { id totalQuantity subtotal { amount }
  lines { id quantity status available held heldUntil variant { sku title price { amount } }
          fulfillment { mode location { name } } unitPrice { amount } total { amount } } } }""",
    "member's orders (10 x 3 lines)": """{ me { orders(first: 10) { edges { node { number status
  total { amount } lines { sku quantity unitPrice { amount } variant { sku } }
  fulfillments { mode status location { name } } } } } } }""",
    "me with loyalty": """{ me { id firstName lastName email loyalty { points tier
  history(first: 10) { edges { node { points kind createdAt } } } } } }""",
}


async def _prepare(port: int) -> str:
    """A member with 10 orders of 3 lines, and a 10-line cart of theirs; returns the cart's id."""
    c = HttpConnection("127.0.0.1", port)
    store = to_global_id("Location", 1)
    changes = [{"variantId": to_global_id("ProductVariant", v), "locationId": store, "onHand": 500}
               for v in range(1, 31)]  # fmt: skip
    await c.post(ADJUST, {"input": {"reason": "CYCLE_COUNT", "changes": changes}}, token=TOKEN)

    def pickup(v: int) -> dict[str, Any]:
        variant = to_global_id("ProductVariant", v)
        return {"variantId": variant, "fulfillment": {"mode": "PICKUP", "locationId": store}}

    for n in range(10):
        lines = [pickup(3 * n + k) for k in (1, 2, 3)]
        cart = (await c.post(CART, {"input": {"lines": lines}}, token=MEMBER))["cartCreate"]["cart"]["id"]
        placed = await c.post(CHECKOUT, {"cart": cart, "key": uuid.uuid4().hex}, token=MEMBER)
        assert placed["checkoutComplete"]["order"] is not None, placed
    lines = [pickup(v) for v in range(1, 11)]
    cart = (await c.post(CART, {"input": {"lines": lines}}, token=MEMBER))["cartCreate"]["cart"]["id"]
    c.close()
    return str(cart)


async def _load(port: int, query: str, variables: dict[str, Any], clients: int, seconds: float,
                group: int) -> dict[str, float]:  # fmt: skip
    connections = [HttpConnection("127.0.0.1", port) for _ in range(clients)]
    for c in connections:  # warm: plans, caches
        await c.post(query, variables, token=MEMBER)
    times: list[float] = []
    cpu = group_cpu_seconds(group)
    deadline = time.perf_counter() + seconds

    async def client(c: HttpConnection) -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await c.post(query, variables, token=MEMBER)
            times.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client(c) for c in connections))
    elapsed = time.perf_counter() - started
    for c in connections:
        c.close()
    return {"rps": len(times) / elapsed, "p99": _percentile(times, 0.99),
            "cpu_ms": (group_cpu_seconds(group) - cpu) * 1000 / max(len(times), 1)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("GATEWAY_TEST_DATABASE_URL"))
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="omnigate-commerce-"))
    tokens = f'[{{"token": "{MEMBER}", "member_id": "m1"}}]'
    found: dict[str, dict[str, dict[str, float]]] = {}
    with _scratch(args.database_url, work) as url, ExitStack() as stack:
        backend = url.split(":")[0].split("+")[0]
        cart = ""
        for compiled in ("true", "false"):
            extra = {"GATEWAY_COMPILED_EXECUTION": compiled, "GATEWAY_MEMBER_TOKENS": tokens}
            port, group = stack.enter_context(_served(Setup(compiled, url, 1), 0, work, extra=extra))
            cart = cart or asyncio.run(_prepare(port))
            name = "compiled" if compiled == "true" else "standard"
            found[name] = {}
            for label, query in QUERIES.items():
                variables = {"id": cart} if "$id" in query else {}
                load = _load(port, query, variables, args.clients, args.seconds, group)
                found[name][label] = asyncio.run(load)
            stack.close()
    print(f"{backend}, one process each, {args.clients} clients, {args.seconds:g} s per query")
    for label in QUERIES:
        c, s = found["compiled"][label], found["standard"][label]
        print(f"{label}: compiled {c['rps']:.1f} req/s (p99 {c['p99']:.1f} ms, {c['cpu_ms']:.2f} ms CPU), "
              f"standard {s['rps']:.1f} req/s (p99 {s['p99']:.1f} ms, {s['cpu_ms']:.2f} ms CPU): "
              f"{c['rps'] / s['rps']:.2f}x, CPU {s['cpu_ms'] / c['cpu_ms']:.2f}x")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
