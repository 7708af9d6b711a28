"""The analytics reports over a year of synthetic history, on SQLite and PostgreSQL.

    python -m bench.analytics [--lines 100000] [--members 2000] [--database-url postgresql+asyncpg://...]
                              [--write]

A scratch demo database per backend (an SQLite file; beside the given PostgreSQL one) gets a year
of orders across channels (web, app, store tills, partners), fulfilled by ship, click & collect,
reserve in store, ship from store and the till, about three lines each, with returns (some in
another channel than the sale) and loyalty entries for members. `--lines 1000000` is the issue's
figure (about 330k orders); the default is quicker. Then each report of the `analytics` root runs
over the whole year, `--runs` times (the median is printed): the SQL aggregates the gateway runs,
through the same adapter, without HTTP. `--write` puts the table into bench/RESULTS.md between
`<!-- analytics:start -->` and `<!-- analytics:end -->`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from adapters.store import open_store, tables
from adapters.store.analytics import DAY, WEEK
from bench.writes import _scratch

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
START, END = "<!-- analytics:start -->", "<!-- analytics:end -->"
CHANNELS = (("WEB", 45), ("MOBILE_APP", 25), ("STORE", 25), ("PARTNER", 5))
MODES = (("SHIP", 60), ("PICKUP", 20), ("RESERVE", 10), ("SHIP_FROM_STORE", 10))
CHUNK = 5000


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]


async def seed_history(url: str, lines: int, members: int, days: int, end: datetime, seed: int = 7) -> int:
    """Orders with about three lines each until `lines` lines exist; returns the orders made."""
    rng = random.Random(seed)
    store = open_store(url)
    try:
        async with store.engine.begin() as conn:
            places = list(await conn.execute(sa.select(tables.locations.c.id, tables.locations.c.kind)))
            variants = list(
                await conn.execute(sa.select(tables.variants.c.id, tables.variants.c.sku,
                                             tables.variants.c.title, tables.variants.c.price_minor))
            )  # fmt: skip
            first = {
                name: (await conn.scalar(sa.select(sa.func.coalesce(sa.func.max(t.c.id), 0)))) + 1
                for name, t in (("order", tables.orders), ("fulfillment", tables.order_fulfillments),
                                ("line", tables.order_lines), ("return", tables.returns))
            }  # fmt: skip
        stores = [p.id for p in places if p.kind == "STORE"]
        warehouses = [p.id for p in places if p.kind != "STORE"] or stores
        batch: dict[str, list[dict[str, Any]]] = {"o": [], "f": [], "l": [], "r": [], "rl": [], "e": []}
        order_id, fulfillment_id, line_id, return_id = (
            first["order"],
            first["fulfillment"],
            first["line"],
            first["return"],
        )
        made = written = 0

        async def flush() -> None:
            async with store.engine.begin() as conn:
                for key, table in (("o", tables.orders), ("f", tables.order_fulfillments),
                                   ("l", tables.order_lines), ("r", tables.returns),
                                   ("rl", tables.return_lines), ("e", tables.loyalty_entries)):  # fmt: skip
                    if batch[key]:
                        await conn.execute(sa.insert(table), batch[key])
                        batch[key].clear()

        while written < lines:
            at = end - timedelta(seconds=rng.uniform(0, days * 86400))
            channel = _pick(rng, CHANNELS)
            mode = "IN_STORE" if channel == "STORE" else _pick(rng, MODES)
            location = rng.choice(warehouses if mode == "SHIP" else stores)
            member = f"bench-{rng.randrange(members)}" if rng.random() < 0.7 else None
            status = "CANCELLED" if rng.random() < 0.03 else "FULFILLED"
            count = min(rng.randint(1, 5), lines - written)
            chosen = rng.sample(variants, count)
            quantities = [rng.choice((1, 1, 1, 2, 3)) for _ in chosen]
            total = sum(v.price_minor * q for v, q in zip(chosen, quantities, strict=True))
            batch["o"].append({"id": order_id, "channel": channel, "status": status, "member_id": member,
                               "cart_id": None, "currency_code": "USD", "subtotal_minor": total,
                               "total_minor": total, "payment_key": uuid.uuid4().hex, "created_at": at,
                               "updated_at": at})  # fmt: skip
            batch["f"].append({"id": fulfillment_id, "order_id": order_id, "location_id": location,
                               "mode": mode, "status": "DELIVERED", "hold_expires_at": None,
                               "created_at": at, "updated_at": at})  # fmt: skip
            for position, (variant, quantity) in enumerate(zip(chosen, quantities, strict=True)):
                batch["l"].append({"id": line_id + position, "order_id": order_id,
                                   "fulfillment_id": fulfillment_id, "variant_id": variant.id,
                                   "position": position, "sku": variant.sku, "title": variant.title,
                                   "quantity": quantity,
                                   "unit_price_minor": variant.price_minor})  # fmt: skip
            if status == "FULFILLED" and rng.random() < 0.08:
                back_at = at + timedelta(days=rng.randint(1, 20))
                batch["r"].append({"id": return_id, "order_id": order_id,
                                   "location_id": rng.choice(stores + warehouses), "reason": None,
                                   "actor": "bench", "refund_minor": chosen[0].price_minor,
                                   "refund_status": "REFUNDED", "created_at": back_at})  # fmt: skip
                batch["rl"].append({"return_id": return_id, "order_line_id": line_id, "quantity": 1,
                                    "exchange_variant_id": None})  # fmt: skip
                return_id += 1
            if member is not None and status == "FULFILLED":
                batch["e"].append({"member_id": member, "key": f"bench:{order_id}:earn", "kind": "EARN",
                                   "points": total // 100, "spend_minor": total, "order_id": order_id,
                                   "created_at": at})  # fmt: skip
                if rng.random() < 0.1:
                    batch["e"].append({"member_id": member, "key": f"bench:{order_id}:spend", "kind": "SPEND",
                                       "points": -min(total // 200, 500), "spend_minor": 0, "order_id": None,
                                       "created_at": at})  # fmt: skip
            order_id, fulfillment_id, line_id = order_id + 1, fulfillment_id + 1, line_id + count
            written, made = written + count, made + 1
            if len(batch["l"]) >= CHUNK:
                await flush()
        await flush()
        if store.dialect == "postgresql":  # fresh planner statistics, as autovacuum would give a live table
            async with store.engine.begin() as conn:
                for table in ("orders", "order_fulfillments", "order_lines", "returns", "return_lines",
                              "loyalty_entries"):  # fmt: skip
                    await conn.execute(sa.text(f"ANALYZE {table}"))
        return made
    finally:
        await store.close()


async def time_reports(url: str, end: datetime, runs: int) -> list[tuple[str, float]]:
    """The median milliseconds of each report over the year to `end`."""
    store = open_store(url)
    source = store.analytics
    since = end - timedelta(days=364)
    one_store = frozenset({1})

    def sales(channel: bool, location: bool, period: str | None, where: Any = None) -> Any:
        return lambda: source.sales(
            since, end, where, by_channel=channel, by_location=location, period=period
        )

    reports: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
        ("sales by channel", sales(True, False, None)),
        ("sales by channel and day", sales(True, False, DAY)),
        ("sales by location and week", sales(False, True, WEEK)),
        ("sales of one store by day", sales(True, False, DAY, one_store)),
        ("fulfillment mix", lambda: source.fulfillment_mix(since, end, None)),
        ("returns by channel", lambda: source.returns(since, end, None)),
        ("sell-through and cover", lambda: source.stock(since, end, None)),
        ("loyalty by week", lambda: source.loyalty(since, end, WEEK)),
        ("points outstanding", lambda: source.points_outstanding(end)),
    ]  # fmt: skip
    found = []
    try:
        for name, report in reports:
            await report()  # warm: the pool, the statement caches
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                await report()
                times.append((time.perf_counter() - started) * 1000)
            found.append((name, statistics.median(times)))
    finally:
        await store.close()
    return found


def _write(block: str) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else ""
    section = f"{START}\n{block.rstrip()}\n{END}"
    if START in text and END in text:
        text = re.sub(re.escape(START) + r".*?" + re.escape(END), lambda _: section, text, flags=re.DOTALL)
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    RESULTS.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("GATEWAY_TEST_DATABASE_URL"),
                        help="PostgreSQL: a scratch database beside it")  # fmt: skip
    parser.add_argument(
        "--lines", type=int, default=100_000, help="order lines (the issue's figure: 1000000)"
    )
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = parser.parse_args(argv)
    end = datetime(2026, 12, 1, tzinfo=UTC)
    backends = ([] if args.no_sqlite else [None]) + ([args.database_url] if args.database_url else [])
    work = Path(tempfile.mkdtemp(prefix="omnigate-analytics-"))
    results: dict[str, list[tuple[str, float]]] = {}
    orders = 0
    for setup in backends:
        with _scratch(setup, work) as url:
            backend = url.split(":")[0].split("+")[0]
            started = time.perf_counter()
            orders = asyncio.run(seed_history(url, args.lines, args.members, args.days, end))
            took = time.perf_counter() - started
            print(f"{backend}: seeded {args.lines} lines in {orders} orders in {took:.0f} s", flush=True)
            results[backend] = asyncio.run(time_reports(url, end, args.runs))
            for name, ms in results[backend]:
                print(f"{backend}: {name}: {ms:.1f} ms", flush=True)
    names = [name for name, _ in next(iter(results.values()), [])]
    header = "| report (a year) | " + " | ".join(f"{b} ms" for b in results) + " |"
    rows = [header, "| --- |" + " ---: |" * len(results)]
    for i, name in enumerate(names):
        rows.append(f"| {name} | " + " | ".join(f"{results[b][i][1]:.1f}" for b in results) + " |")
    block = "\n".join([
        "## Analytics",
        "",
        f"`python -m bench.analytics --lines {args.lines} --members {args.members}`: a year of synthetic "
        f"history ({args.lines} order lines in {orders} orders, {args.members} members, returns and "
        f"loyalty entries), each report of `analytics` over the whole year through the store's SQL "
        f"aggregates, median of {args.runs} runs after a warm-up; run "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC on a shared 2-core machine.",
        "",
        *rows,
    ])  # fmt: skip
    print(block)
    if args.write:
        _write(block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
