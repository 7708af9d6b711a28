"""The allocation logic never allocates more than there is, for any sequence of adds,
checkouts, cancels, fulfilments, returns and expiries: a hypothesis RuleBasedStateMachine
driving the gateway (in-process ASGI, the real store: SQLite, and PostgreSQL when
GATEWAY_TEST_DATABASE_URL is set) through its GraphQL API.

After every step, for each stock level the machine touches:
- `reserved >= 0` and `onHand - reserved >= 0` (nothing oversold), in the database;
- `available == onHand - reserved` as the API reports it;
- `reserved` is exactly the sum of the live reservations;
- `onHand` is what the model expects: the count it started from, less what was handed over
  (shipped, picked up, sold at the till), plus what came back.

`OMNIGATE_PROPERTY_EXAMPLES` (default 25 sequences per backend) runs more.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import os
import uuid
from collections import Counter
from contextlib import AsyncExitStack
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from adapters.store.tables import inventory_levels, reservations
from tests.commerce import (
    ADJUST,
    CART_CREATE,
    CHECKOUT,
    DECLINED,
    FULFILLMENT_UPDATE,
    LINES_ADD,
    ORDER,
    ORDER_CANCEL,
    RETURN_CREATE,
    VISA,
    line,
    location_id,
    variant_id,
)
from tests.conftest import Api, make_settings, serving

EXAMPLES = int(os.environ.get("OMNIGATE_PROPERTY_EXAMPLES", "25"))
STORE, WAREHOUSES = 1, (9, 10)  # Seattle (pickup, ships) and the two warehouses
LOCATIONS = (STORE, *WAREHOUSES)
# The next legal move of a fulfillment, and whether the goods leave with it.
NEXT = {
    ("SHIP", "ALLOCATED"): ("SHIPPED", True),
    ("PICKUP", "ALLOCATED"): ("READY_FOR_PICKUP", False),
    ("PICKUP", "READY_FOR_PICKUP"): ("PICKED_UP", True),
    ("RESERVE", "HELD"): ("SOLD", True),
}
LEVELS = """
query ($ids: [ID!]!) { nodes(ids: $ids) { ... on ProductVariant {
  id inventory { location { id } onHand reserved available } } } }"""
_variants = itertools.count()
# Which cart, order or line a rule acts on, modulo how many there are: the draws must not
# depend on the server's answers, or hypothesis could not replay a sequence.
PICK = st.integers(0, 3)
tally: Counter[str] = Counter()  # what the sequences did, printed at the end (-s shows it)


def note(what: str) -> None:
    event(what)
    tally[what] += 1


def key_of(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().partition(":")[2])


class Allocation(RuleBasedStateMachine):
    api: Api
    loop: asyncio.AbstractEventLoop

    def __init__(self) -> None:
        super().__init__()
        # Each sequence gets its own two variants (of ~600), so sequences never share a level.
        first = 2 * (next(_variants) % 290) + 1
        self.variants = (first, first + 1)
        self.on_hand: dict[tuple[int, int], int] = {}
        self.carts: list[str] = []
        self.orders: dict[str, dict[str, Any]] = {}

    def call(self, query: str, variables: dict[str, Any], **headers: str) -> dict[str, Any]:
        return self.loop.run_until_complete(self.api.data(query, variables, **headers))

    @initialize(counts=st.lists(st.integers(0, 6), min_size=6, max_size=6))
    def count_stock(self, counts: list[int]) -> None:
        """A cycle count: a few units of each variant at the store and both warehouses."""
        keys = [(v, loc) for v in self.variants for loc in LOCATIONS]
        reserved = self.levels()
        changes = []
        for (variant, loc), count in zip(keys, counts, strict=True):
            # on top of whatever an earlier run of the suite left reserved on these rows
            self.on_hand[(variant, loc)] = reserved.get((variant, loc), (0, 0))[1] + count
            changes.append({"variantId": variant_id(variant), "locationId": location_id(loc),
                            "onHand": self.on_hand[(variant, loc)]})  # fmt: skip
        body = self.call(ADJUST, {"input": {"reason": "CYCLE_COUNT", "changes": changes}},
                         **self.api.as_integration())  # fmt: skip
        assert body["inventoryAdjust"]["userErrors"] == []

    @rule(
        index=PICK,
        quantity=st.integers(1, 2),
        mode=st.sampled_from(["SHIP", "PICKUP", "RESERVE"]),
        which=st.integers(0, 1),
    )
    def add(self, index: int, quantity: int, mode: str, which: int) -> None:
        added = line(self.variants[which], quantity, mode, None if mode == "SHIP" else STORE)
        if index >= len(self.carts):  # a new cart
            payload = self.call(CART_CREATE, {"input": {"lines": [added]}})["cartCreate"]
            if payload["cart"] is not None:
                self.carts.append(payload["cart"]["id"])
        else:
            self.call(LINES_ADD, {"cartId": self.carts[index], "lines": [added]})

    @rule(index=PICK, declined=st.booleans())
    def checkout(self, index: int, declined: bool) -> None:
        if not self.carts:
            return
        cart = self.carts[index % len(self.carts)]
        variables = {"cartId": cart, "payment": DECLINED if declined else VISA, "key": uuid.uuid4().hex}
        payload = self.call(CHECKOUT, variables)["checkoutComplete"]
        order = payload["order"]
        if order is not None:  # (a declined card still buys a cart that is all RESERVE: nothing is due)
            self.orders[order["id"]] = order
            self.carts.remove(cart)
        note("checkout: " + ("order" if order is not None else payload["userErrors"][0]["code"]))

    def _staff(self, order: dict[str, Any]) -> dict[str, str]:
        return self.api.as_staff(key_of(order["fulfillments"][0]["location"]["id"]))

    def pick_order(self, index: int) -> dict[str, Any] | None:
        """An order as it is now (time passing expires reserve-in-store holds)."""
        if not self.orders:
            return None
        order = self.orders[sorted(self.orders)[index % len(self.orders)]]
        return self.call(ORDER, {"id": order["id"]}, **self._staff(order))["order"]

    @rule(index=PICK, which=PICK)
    def fulfil(self, index: int, which: int) -> None:
        order = self.pick_order(index)
        if order is None:
            return
        fulfillment = order["fulfillments"][which % len(order["fulfillments"])]
        move = NEXT.get((fulfillment["mode"], fulfillment["status"]))
        if move is None:
            return
        location = key_of(fulfillment["location"]["id"])
        variables = {"id": fulfillment["id"], "status": move[0]}
        payload = self.call(FULFILLMENT_UPDATE, variables, **self.api.as_staff(location))
        payload = payload["fulfillmentUpdateStatus"]
        assert payload["userErrors"] == [], payload["userErrors"]
        note(f"fulfilment: {move[0]}")
        if move[1]:  # the goods left the location
            for ln in order["lines"]:
                if ln["fulfillment"]["id"] == fulfillment["id"]:
                    self.on_hand[(key_of(ln["variant"]["id"]), location)] -= ln["quantity"]
        self.orders[order["id"]] = payload["order"]

    @rule(index=PICK)
    def cancel(self, index: int) -> None:
        order = self.pick_order(index)
        if order is None:
            return
        payload = self.call(ORDER_CANCEL, {"id": order["id"], "reason": "changed mind"}, **self._staff(order))
        note("cancel: " + ("done" if not payload["orderCancel"]["userErrors"] else "refused"))
        if payload["orderCancel"]["order"] is not None:
            self.orders[order["id"]] = payload["orderCancel"]["order"]

    @rule(index=PICK, which=PICK)
    def give_back(self, index: int, which: int) -> None:
        """One unit of an order line comes back to the store, which restocks it."""
        order = self.pick_order(index)
        if order is None:
            return
        ln = order["lines"][which % len(order["lines"])]
        variables = {"input": {"orderId": order["id"], "locationId": location_id(STORE),
                               "lines": [{"orderLineId": ln["id"], "quantity": 1}]}}  # fmt: skip
        payload = self.call(RETURN_CREATE, variables, **self.api.as_staff(STORE))["returnCreate"]
        note("return: " + ("restocked" if payload["return"] is not None else "refused"))
        if payload["return"] is not None:
            self.on_hand[(key_of(ln["variant"]["id"]), STORE)] += 1
            self.orders[order["id"]] = payload["order"]

    @rule(hours=st.sampled_from([0.3, 49]))
    def time_passes(self, hours: float) -> None:
        """Cart holds (15 minutes) or reserve-in-store holds (48 hours) expire, and are swept."""
        self.api.advance(hours=hours)
        self.loop.run_until_complete(self.api.gateway.sweep())

    def levels(self) -> dict[tuple[int, int], tuple[int, int]]:
        statement = sa.select(inventory_levels).where(inventory_levels.c.variant_id.in_(self.variants))

        async def read() -> dict[tuple[int, int], tuple[int, int]]:
            async with self.api.store.engine.connect() as conn:
                rows = await conn.execute(statement)
                return {(r.variant_id, r.location_id): (r.on_hand, r.reserved) for r in rows}

        return self.loop.run_until_complete(read())

    @invariant()
    def nothing_is_oversold(self) -> None:
        if not self.on_hand:
            return
        found = self.levels()
        for key, expected in self.on_hand.items():
            on_hand, reserved = found[key]
            assert reserved >= 0, (key, found[key])
            assert on_hand - reserved >= 0, f"{key}: {reserved} reserved of {on_hand} on hand"
            assert on_hand == expected, f"{key}: {on_hand} on hand, the model expects {expected}"
        held = self.loop.run_until_complete(self._reserved_by_reservations())
        assert {k: r for k, (_, r) in found.items() if r} == held
        api_levels = self.call(LEVELS, {"ids": [variant_id(v) for v in self.variants]})["nodes"]
        for node in api_levels:
            for lv in node["inventory"]:
                assert lv["available"] == lv["onHand"] - lv["reserved"], lv

    async def _reserved_by_reservations(self) -> dict[tuple[int, int], int]:
        total = sa.func.sum(reservations.c.quantity)
        statement = (
            sa.select(reservations.c.variant_id, reservations.c.location_id, total)
            .where(reservations.c.variant_id.in_(self.variants))
            .group_by(reservations.c.variant_id, reservations.c.location_id)
        )
        async with self.api.store.engine.connect() as conn:
            return {(v, loc): int(total) for v, loc, total in await conn.execute(statement) if total}


def test_allocation_never_oversells(templates: Any) -> None:
    loop = asyncio.new_event_loop()
    stack = AsyncExitStack()
    try:
        url = loop.run_until_complete(templates.clone())
        api = loop.run_until_complete(stack.enter_async_context(serving(make_settings(url))))
        Allocation.api, Allocation.loop = api, loop
        run_state_machine_as_test(
            Allocation,
            settings=settings(
                max_examples=EXAMPLES,
                stateful_step_count=30,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=[HealthCheck.too_slow],
                phases=[Phase.explicit, Phase.generate] if os.environ.get("NOSHRINK") else list(Phase),
            ),
        )
    finally:
        loop.run_until_complete(stack.aclose())
        loop.close()
    print(f"\nallocation machine: {dict(sorted(tally.items()))}")
    tally.clear()
