"""No overselling: many checkouts racing for the last units, on SQLite and PostgreSQL."""

import asyncio
from collections import Counter

import pytest

from tests.commerce import (
    SEATTLE,
    VISA,
    checkout,
    create_cart,
    level,
    line,
    reservation_count,
    reservations_consistent,
    set_stock,
)
from tests.conftest import Api

VARIANT = 7
BUYERS = 50
UNITS = 5


@pytest.mark.parametrize("mode", ["SHIP_FROM_STORE", "PICKUP"])
async def test_fifty_checkouts_for_five_units_make_five_orders(api: Api, mode: str):
    # Carts are filled while the store has none (so no cart holds a unit), then 5 arrive.
    await set_stock(api, VARIANT, SEATTLE, 0)
    carts = [
        await create_cart(api, line(VARIANT, 1, mode, SEATTLE), lean=True) for _ in range(BUYERS)
    ]
    await set_stock(api, VARIANT, SEATTLE, UNITS)

    results = await asyncio.gather(
        *(checkout(api, cart["id"], key=f"race-{n}", lean=True) for n, cart in enumerate(carts))
    )

    orders = [r["order"] for r in results if r["order"] is not None]
    codes = Counter(e["code"] for r in results for e in r["userErrors"])
    assert len(orders) == UNITS
    assert codes == {"INSUFFICIENT_STOCK": BUYERS - UNITS}
    assert len({o["id"] for o in orders}) == UNITS
    assert len(api.gateway.payments.cards.charges) == UNITS  # losers are never charged
    assert await level(api, VARIANT, SEATTLE) == {
        "onHand": UNITS,
        "reserved": UNITS,
        "available": 0,
    }
    assert await reservation_count(api) == UNITS
    await reservations_consistent(api)


async def test_the_same_key_racing_makes_one_order_and_one_charge(api: Api):
    await set_stock(api, VARIANT, SEATTLE, 3)
    cart = await create_cart(api, line(VARIANT, 1, "PICKUP", SEATTLE))
    api.gateway.payments.cards.latency = 0.05  # the first call is still charging when others come

    results = await asyncio.gather(*(checkout(api, cart["id"], key="same") for _ in range(5)))

    assert all(r["userErrors"] == [] for r in results), results
    assert len({r["order"]["id"] for r in results}) == 1
    assert len(api.gateway.payments.cards.charges) == 1
    assert await level(api, VARIANT, SEATTLE) == {"onHand": 3, "reserved": 1, "available": 2}
    await reservations_consistent(api)


async def test_two_keys_racing_for_one_cart_make_one_order(api: Api):
    await set_stock(api, VARIANT, SEATTLE, 3)
    cart = await create_cart(api, line(VARIANT, 1, "PICKUP", SEATTLE))
    api.gateway.payments.cards.latency = 0.05

    results = await asyncio.gather(
        *(checkout(api, cart["id"], key=f"key-{n}", payment=VISA) for n in range(4))
    )

    assert sum(r["order"] is not None for r in results) == 1
    codes = {e["code"] for r in results for e in r["userErrors"]}
    assert codes <= {"CHECKOUT_IN_PROGRESS", "CART_COMPLETED"} and codes
    assert len(api.gateway.payments.cards.charges) == 1
    await reservations_consistent(api)
