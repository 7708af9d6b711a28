"""Units of the pure commerce logic: the lifecycle table, fulfillment rules, allocation, the
test card provider, string-keyed ids and who may see an order."""

import base64
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from adapters.commerce import FulfillmentMode as M
from adapters.commerce import FulfillmentStatus as F
from adapters.commerce import OrderStatus as O
from adapters.commerce import PaymentMethod, StockEffect
from adapters.payments import TestCardProvider
from adapters.payments.card_test_mode import ledger_charges
from adapters.ports.payments import ChargeRequest, PaymentDeclined, PaymentUnavailable, RefundRequest
from adapters.records import InventoryLevelRecord, LocationKind
from gateway.settings import Settings
from resolvers import lifecycle
from resolvers.allocation import MostStockedWarehouseFirst
from resolvers.carts import fulfillment_problem
from resolvers.errors import BadUserInput
from resolvers.principal import Principal, PrincipalKind
from resolvers.tenders import PaymentInput
from schema.ids import CART_TOKEN, decode_id, decode_str_id, str_key, to_global_id
from tests.test_units import store

pytestmark = pytest.mark.dates  # reads the date: CI runs it again a year ahead (.ci/run)


@pytest.mark.parametrize(
    ("mode", "current", "to", "legal"),
    [
        (M.PICKUP, F.ALLOCATED, F.READY_FOR_PICKUP, True),
        (M.PICKUP, F.READY_FOR_PICKUP, F.PICKED_UP, True),
        (M.PICKUP, F.ALLOCATED, F.PICKED_UP, False),
        (M.PICKUP, F.PICKED_UP, F.CANCELLED, False),
        (M.SHIP, F.ALLOCATED, F.SHIPPED, True),
        (M.SHIP, F.SHIPPED, F.DELIVERED, True),
        (M.SHIP, F.SHIPPED, F.CANCELLED, False),
        (M.SHIP_FROM_STORE, F.ALLOCATED, F.READY_FOR_PICKUP, False),
        (M.RESERVE, F.HELD, F.SOLD, True),
        (M.RESERVE, F.HELD, F.RELEASED, True),
        (M.RESERVE, F.SOLD, F.RELEASED, False),
        (M.IN_STORE, F.SOLD, F.CANCELLED, False),
    ],
)
def test_the_lifecycle_allows_only_its_moves(mode, current, to, legal):
    assert lifecycle.can_move(mode, current, to) is legal


def test_only_the_system_lets_a_hold_expire():
    assert not lifecycle.can_move(M.RESERVE, F.HELD, F.EXPIRED)
    assert lifecycle.can_move(M.RESERVE, F.HELD, F.EXPIRED, system=True)


def test_what_each_move_does_to_stock():
    assert lifecycle.stock_effect(F.PICKED_UP) is StockEffect.SHIP_OUT
    assert lifecycle.stock_effect(F.SHIPPED) is StockEffect.SHIP_OUT
    assert lifecycle.stock_effect(F.CANCELLED) is StockEffect.RELEASE
    assert lifecycle.stock_effect(F.READY_FOR_PICKUP) is StockEffect.NONE
    assert lifecycle.stock_effect(F.DELIVERED) is StockEffect.NONE  # it left when SHIPPED


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([F.ALLOCATED], O.ALLOCATED),
        ([F.HELD, F.ALLOCATED], O.ALLOCATED),
        ([F.READY_FOR_PICKUP, F.ALLOCATED], O.ALLOCATED),
        ([F.READY_FOR_PICKUP], O.READY_FOR_PICKUP),
        ([F.SHIPPED, F.ALLOCATED], O.PARTIALLY_FULFILLED),
        ([F.PICKED_UP, F.DELIVERED], O.FULFILLED),
        ([F.PICKED_UP, F.CANCELLED], O.PICKED_UP),
        ([F.SOLD], O.FULFILLED),
        ([F.CANCELLED, F.EXPIRED], O.CANCELLED),
    ],
)
def test_the_order_status_sums_up_its_fulfillments(statuses, expected):
    assert lifecycle.order_status(statuses) is expected


def test_an_order_can_be_cancelled_until_something_leaves():
    assert lifecycle.cancellable([F.ALLOCATED, F.READY_FOR_PICKUP, F.HELD])
    assert not lifecycle.cancellable([F.ALLOCATED, F.SHIPPED])
    assert not lifecycle.cancellable([F.CANCELLED])


def test_which_store_can_fulfil_which_mode():
    shop = store()  # pickup on, ship-from-store off
    assert fulfillment_problem(M.PICKUP, shop) is None
    assert fulfillment_problem(M.RESERVE, shop) is None
    assert fulfillment_problem(M.SHIP, None) is None
    assert "does not ship" in (fulfillment_problem(M.SHIP_FROM_STORE, shop) or "")
    assert "no location" in (fulfillment_problem(M.SHIP, shop) or "")
    assert "pickup" in (fulfillment_problem(M.PICKUP, store(pickup=False)) or "")
    assert "locationId" in (fulfillment_problem(M.PICKUP, None) or "")
    assert fulfillment_problem(M.IN_STORE, shop) is not None


def test_ship_allocation_tries_the_most_stocked_warehouse_first():
    now = datetime.now(UTC)
    warehouses = [replace(store(), id=i, kind=LocationKind.WAREHOUSE) for i in (9, 10)]
    shops = [store()]
    levels = [
        InventoryLevelRecord(1, 9, 3, 0, now),
        InventoryLevelRecord(1, 10, 8, 1, now),
        InventoryLevelRecord(1, 1, 50, 0, now),
    ]
    strategy = MostStockedWarehouseFirst()
    assert strategy.ship_from(2, levels, [*shops, *warehouses]) == (10, 9)
    assert strategy.ship_from(5, levels[:1], [*shops, *warehouses]) == (9, 10)  # stores never


def charge(token: str, key: str = "k", amount: int = 1000) -> ChargeRequest:
    return ChargeRequest(PaymentMethod.CARD, amount, "USD", key, card_token=token)


async def test_the_test_provider_approves_declines_and_charges_once_per_key():
    provider = TestCardProvider()
    first = await provider.charge(charge("tok_visa", "a"))
    assert (await provider.charge(charge("tok_visa", "a"))).reference == first.reference
    assert len(provider.charges) == 1
    assert (await provider.charge(charge("4242 4242 4242 4242", "b"))).reference != first.reference
    for token, reason in [
        ("tok_chargeDeclined", "card_declined"),
        ("4000000000009995", "insufficient_funds"),
        ("tok_nonsense", "invalid_card"),
    ]:
        with pytest.raises(PaymentDeclined) as declined:
            await provider.charge(charge(token, token))
        assert declined.value.reason == reason
    with pytest.raises(PaymentUnavailable):
        await provider.charge(charge("tok_unavailable", "u"))
    assert len(provider.charges) == 2


async def test_the_test_provider_refunds_within_the_charge():
    provider = TestCardProvider()
    done = await provider.charge(charge("tok_visa", amount=1000))

    def refund(amount: int, key: str) -> RefundRequest:
        return RefundRequest(PaymentMethod.CARD, "test", done.reference, amount, "USD", key)

    await provider.refund(refund(600, "r1"))
    await provider.refund(refund(600, "r1"))  # the same key: once
    with pytest.raises(PaymentDeclined):
        await provider.refund(refund(500, "r2"))
    assert provider.refunds == [(done.reference, 600)]


async def test_with_a_ledger_the_test_provider_remembers_across_processes(tmp_path):
    """Like a real processor, it outlives the gateway: a new instance (a restarted process)
    answers a repeated key with the first outcome and knows what was voided."""
    ledger = tmp_path / "charges.db"
    first = TestCardProvider(ledger=ledger)
    taken = await first.charge(charge("tok_visa", "a"))
    with pytest.raises(PaymentDeclined):
        await first.charge(charge("tok_chargeDeclined", "d"))
    second = TestCardProvider(ledger=ledger)
    assert await second.charged("a") == taken
    assert (await second.charge(charge("tok_visa", "a"))).reference == taken.reference
    with pytest.raises(PaymentDeclined):
        await second.charge(charge("tok_visa", "d"))  # declined stays declined
    assert await second.charged("nothing") is None
    await second.void("a")
    assert await TestCardProvider(ledger=ledger).charged("a") is None
    assert [(c.idempotency_key, c.voided) for c in ledger_charges(ledger)] == [("a", True)]


def test_a_fault_point_needs_the_test_card_provider():
    assert Settings(test_fault="after_charge").test_fault == "after_charge"
    with pytest.raises(ValidationError, match="test card provider"):
        Settings(test_fault="after_charge", payment_provider="acme")
    with pytest.raises(ValidationError, match="one of"):
        Settings(test_fault="after_lunch")


async def test_the_decline_switch():
    with pytest.raises(PaymentDeclined):
        await TestCardProvider(decline_all=True).charge(charge("tok_visa"))


def test_string_keyed_ids_accept_only_their_exact_shape():
    token = "A" * 43
    assert decode_str_id(to_global_id("Cart", token), "Cart", CART_TOKEN) == token
    for bad in ["A" * 42, "A" * 44, "A" * 42 + "=", "A" * 42 + "/", "Ａ" * 43]:  # noqa: RUF001
        with pytest.raises(BadUserInput):
            str_key(bad, CART_TOKEN)
    with pytest.raises(BadUserInput):
        decode_str_id(to_global_id("Order", token), "Cart", CART_TOKEN)
    # Integer ids stay as strict as before.
    with pytest.raises(BadUserInput):
        decode_id(base64.b64encode(b"Order:" + token.encode()).decode(), "Order")


def test_who_may_see_an_order():
    owner = Principal(PrincipalKind.MEMBER, "member:a", member_id="a")
    stranger = Principal(PrincipalKind.MEMBER, "member:b", member_id="b")
    clerk = Principal(PrincipalKind.STAFF, "staff:1", location_ids=frozenset({1}))
    order_sync = Principal(PrincipalKind.INTEGRATION, "integration:oms", scopes=frozenset({"orders:read"}))
    stock_only = Principal(PrincipalKind.INTEGRATION, "integration", scopes=frozenset({"inventory:write"}))
    assert owner.may_see_order("a", {3})
    assert not stranger.may_see_order("a", {3})
    assert not owner.may_see_order(None, {3})
    assert clerk.may_see_order(None, {1, 3}) and not clerk.may_see_order("a", {3})
    assert order_sync.may_see_order(None, set()) and not order_sync.may_change_order(None, set())
    assert not stock_only.may_see_order(None, set())
    assert owner.may_change_order("a", {3}) and not stranger.may_change_order("a", {3})


def test_a_payments_fingerprint_tells_payments_apart():
    visa = PaymentInput(PaymentMethod.CARD, "tok_visa")
    assert visa.fingerprint() == PaymentInput(PaymentMethod.CARD, "tok_visa").fingerprint()
    assert visa.fingerprint() != PaymentInput(PaymentMethod.CARD, "tok_amex").fingerprint()
    assert "tok_visa" not in visa.fingerprint()
