"""The crash matrix: a real gateway process (uvicorn through `omnigate serve`) on SQLite and on
PostgreSQL is killed with SIGKILL at each fault point of a checkout (adapters/faults.py), then
restarted. After each restart the consistency query (tests/consistency.py) must hold, the
client's retry with the same idempotency key must answer with one order charged once, and a
checkout nobody retries must be finished by the gateway itself: completed when the card was
charged, voided and released when it was not.

The card provider double keeps its charges in a ledger file, like a real processor that
outlives the gateway, so the charges are counted across the kills."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.payments.card_test_mode import ledger_charges
from adapters.store.tables import idempotency_keys, orders
from schema.ids import from_global_id
from tests.commerce import (
    LEAN_CHECKOUT,
    SEATTLE,
    VISA,
    create_cart,
    level,
    line,
    set_stock,
)
from tests.consistency import violations
from tests.served import Served, serve

SWEEP = timedelta(seconds=1)
PICKUP_VARIANT, SHIP_VARIANT, LEFT_VARIANT = 11, 12, 13
CONFIRMED = "ALLOCATED"  # a placed order whose lines are all allocated


@asynccontextmanager
async def gateway(tmp_path: Path, url: str, fault: str | None = None, **env: str) -> AsyncIterator[Served]:
    settings = {
        "GATEWAY_PAYMENTS_TEST_LEDGER": str(tmp_path / "charges.db"),
        "GATEWAY_RESERVATION_SWEEP_SECONDS": str(SWEEP.total_seconds()),
        "GATEWAY_CART_HOLD_MINUTES": "0.05",  # a cart hold left behind expires while the gateway is down
        "GATEWAY_CHECKOUT_WAIT_SECONDS": "0.2",  # a retry takes over a dead checkout soon
        **({"GATEWAY_TEST_FAULT": fault} if fault else {}),
        **env,
    }
    async with serve(tmp_path, url, **settings) as served:
        yield served


async def killed_at(served: Served, cart_id: str, key: str) -> None:
    """The checkout reaches the armed fault point: the process dies and never answers."""
    variables = {"cartId": cart_id, "payment": VISA, "key": key}
    with pytest.raises(httpx.TransportError):
        await served.http.post("/graphql", json={"query": LEAN_CHECKOUT, "variables": variables})
    assert await served.proc.wait() == -signal.SIGKILL


async def retry(served: Served, cart_id: str, key: str) -> dict[str, Any]:
    variables = {"cartId": cart_id, "payment": VISA, "key": key}
    return (await served.data(LEAN_CHECKOUT, variables))["checkoutComplete"]


async def order_of_key(url: str, key: str) -> tuple[int | None, str | None]:
    """The order a key's first use made, from the database (the client never heard of it)."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(orders.c.id, orders.c.status)
                    .join(idempotency_keys, idempotency_keys.c.order_id == orders.c.id)
                    .where(idempotency_keys.c.key == key)
                )
            ).first()
    finally:
        await engine.dispose()
    return (row.id, row.status) if row else (None, None)


async def a_cart(served: Served) -> str:
    """One line collected at a store (its hold becomes the order's), one shipped."""
    cart = await create_cart(
        served, line(PICKUP_VARIANT, 1, "PICKUP", SEATTLE), line(SHIP_VARIANT, 2), lean=True
    )
    return cart["id"]


async def stock_adds_up(served: Served) -> None:
    mine = await level(served, PICKUP_VARIANT, SEATTLE)
    assert mine["available"] == mine["onHand"] - mine["reserved"]


async def test_a_checkout_killed_at_any_point_ends_charged_once_with_one_order(database_url, tmp_path):
    url = database_url  # each backend's demo database, seeded
    ledger = tmp_path / "charges.db"

    # One process per fault point; each dies in the middle of a checkout.
    carts: dict[str, str] = {}
    async with gateway(tmp_path, url, "after_allocation") as served:
        await set_stock(served, PICKUP_VARIANT, SEATTLE, 20)
        await set_stock(served, LEFT_VARIANT, SEATTLE, 5)  # no checkout touches it: only sweeps free it
        left_behind = await create_cart(served, line(LEFT_VARIANT, 3, "PICKUP", SEATTLE), lean=True)
        assert left_behind["id"]
        carts["after_allocation"] = await a_cart(served)
        await killed_at(served, carts["after_allocation"], "k-after_allocation")
    for point in ("after_charge", "after_order_insert", "before_response"):
        async with gateway(tmp_path, url, point) as served:
            carts[point] = await a_cart(served)
            await killed_at(served, carts[point], f"k-{point}")

    assert (await order_of_key(url, "k-after_allocation"))[1] == "PENDING_PAYMENT"
    assert len(ledger_charges(ledger)) == 3  # after_charge, after_order_insert, before_response
    assert (await order_of_key(url, "k-after_order_insert"))[1] == "PENDING_PAYMENT"  # rolled back
    assert (await order_of_key(url, "k-before_response"))[1] == CONFIRMED

    # Restarted: the promises hold (a pending checkout may still be waiting for its retry), the
    # hold left behind expired while the gateway was down and is gone already.
    async with gateway(tmp_path, url, "after_allocation") as served:
        assert await violations(url, ledger, SWEEP, settled=False) == []
        await stock_adds_up(served)
        # The clients retry with their keys: one order each, the one their first call made.
        for point, cart_id in carts.items():
            made, _ = await order_of_key(url, f"k-{point}")
            answer = await retry(served, cart_id, f"k-{point}")
            assert answer["userErrors"] == [], point
            assert from_global_id(answer["order"]["id"])[1] == str(made), point
            assert answer["order"]["status"] == CONFIRMED
            assert await retry(served, cart_id, f"k-{point}") == answer  # and again: the same
        assert len(ledger_charges(ledger)) == 4  # the retries charged nothing twice
        assert await violations(url, ledger, SWEEP, settled=True) == []
        # Two checkouts nobody retries: one dies before, one after the card is charged.
        unpaid = await a_cart(served)
        await killed_at(served, unpaid, "k-unpaid")
    async with gateway(tmp_path, url, "after_charge") as served:
        paid = await a_cart(served)
        await killed_at(served, paid, "k-paid")

    # The gateway finishes them itself once they are stale: the paid one is completed with its
    # charge, the unpaid one undone (its stock released, its cart open again).
    async with gateway(tmp_path, url, GATEWAY_CHECKOUT_STALE_MINUTES="0.001") as served:
        assert await violations(url, ledger, SWEEP, settled=True) == []
        assert len(ledger_charges(ledger)) == 5
        assert (await order_of_key(url, "k-paid"))[1] == CONFIRMED
        assert await order_of_key(url, "k-unpaid") == (None, None)
        answer = await retry(served, paid, "k-paid")
        assert answer["order"]["status"] == CONFIRMED
        undone = await retry(served, unpaid, "k-unpaid")
        assert [e["code"] for e in undone["userErrors"]] == ["CHECKOUT_EXPIRED"]
        assert len(ledger_charges(ledger)) == 5
        assert await violations(url, ledger, SWEEP, settled=True) == []
        await stock_adds_up(served)
