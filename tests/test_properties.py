"""Property tests (hypothesis) of the pure parts: global ids and cursors, money, the cart merge
strategy. The stateful allocation test, against the real store, is in test_allocation_machine.py."""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from adapters.commerce import FulfillmentMode
from adapters.ports.carts import CartLineOp
from adapters.records import Money, minor_units
from resolvers.cart_merge import AddQuantities, KeepCurrentCart
from resolvers.errors import BadUserInput
from resolvers.pagination import MAX_KEY, decode_cursor, encode_cursor
from schema.common import CurrencyCode
from schema.ids import decode_id, from_global_id, to_global_id

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # hypothesis' own
FAST = settings(max_examples=300, deadline=None, database=None, derandomize=True)

type_names = st.text(min_size=1, max_size=30).filter(lambda t: ":" not in t)
keys = st.one_of(st.integers(min_value=0, max_value=MAX_KEY), st.text(min_size=1, max_size=60))
garbage = st.one_of(
    st.text(max_size=80),
    st.binary(max_size=60).map(lambda b: base64.b64encode(b).decode()),
    st.binary(max_size=60).map(lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")),
    st.builds(lambda t, k: base64.b64encode(f"{t}:{k}".encode()).decode() + "=", type_names, keys),
)

# --- Global ids ---


@FAST
@given(type_names, keys)
def test_a_global_id_round_trips(type_name: str, key: int | str) -> None:
    assert from_global_id(to_global_id(type_name, key)) == (type_name, str(key))


@FAST
@given(st.integers(min_value=0, max_value=MAX_KEY))
def test_an_integer_key_decodes_to_itself(key: int) -> None:
    assert decode_id(to_global_id("ProductVariant", key), "ProductVariant") == key


@FAST
@given(st.integers(min_value=MAX_KEY + 1, max_value=10**40))
@example(MAX_KEY + 1)
def test_an_integer_key_past_the_32_bit_columns_is_refused(key: int) -> None:
    with pytest.raises(BadUserInput):
        decode_id(to_global_id("ProductVariant", key), "ProductVariant")


@FAST
@given(garbage)
@example("UHJvZHVjdDox=")  # Product:1 with stray padding
@example(base64.b64encode(b"Product:01").decode())
@example(base64.b64encode(b"Product:\xff").decode())
def test_garbage_is_refused_or_is_the_one_canonical_id(value: str) -> None:
    """Only BadUserInput ever escapes, and what is accepted re-encodes to exactly the input:
    one entity never has two ids."""
    try:
        type_name, key = from_global_id(value)
    except BadUserInput as refused:
        assert refused.field == "id"
        return
    assert to_global_id(type_name, key) == value
    try:
        number = decode_id(value, type_name)
    except BadUserInput:
        return
    assert to_global_id(type_name, number) == value


# --- Cursors ---

positions = st.tuples(
    st.one_of(st.integers(min_value=-(2**53), max_value=2**53), st.text(max_size=40)),
    st.integers(min_value=0, max_value=MAX_KEY),
)


@FAST
@given(st.sampled_from(["id", "title", "price", "distance"]), positions)
def test_a_cursor_round_trips(ordering: str, position: tuple) -> None:
    cursor = encode_cursor(ordering, position)
    assert re.fullmatch(r"[A-Za-z0-9_-]*", cursor)  # URL-safe, no padding
    assert decode_cursor(cursor, ordering, lambda v: v, "after") == position


@FAST
@given(positions)
def test_a_cursor_of_another_listing_is_refused(position: tuple) -> None:
    with pytest.raises(BadUserInput):
        decode_cursor(encode_cursor("title", position), "price", lambda v: v, "after")


json_lists = st.lists(st.one_of(st.none(), st.integers(), st.floats(), st.text()), max_size=4)
forged_cursors = json_lists.map(lambda v: base64.urlsafe_b64encode(json.dumps(v).encode()).decode())


@FAST
@given(st.one_of(garbage, forged_cursors))
@example(base64.urlsafe_b64encode(b'["id", 1, 99999999999999999999999]').decode())
@example(base64.urlsafe_b64encode(b'["id", 1e999, 1]').decode())
def test_garbage_cursors_are_bad_user_input(value: str) -> None:
    try:
        ordering, (_, key) = "id", decode_cursor(value, "id", int, "before")
    except BadUserInput as refused:
        assert refused.field == "before"
        return
    assert ordering == "id" and 0 <= key <= MAX_KEY


# --- Money: exact, in minor units, never a float ---

currencies = st.sampled_from([c.value for c in CurrencyCode])
minors = st.integers(min_value=-(2**63), max_value=2**63 - 1)  # what a BIGINT column holds


@FAST
@given(minors, currencies)
def test_money_round_trips_through_minor_units(minor: int, currency: str) -> None:
    money = Money.from_minor(minor, currency)
    assert type(money.amount) is Decimal
    assert money.to_minor() == minor
    # The amount's text is exactly what the contract shows: digits, and the currency's decimals.
    units = minor_units(currency)
    pattern = r"-?\d+" + (rf"\.\d{{{units}}}" if units else "")
    assert re.fullmatch(pattern, str(money.amount)), str(money.amount)


@FAST
@given(st.lists(st.tuples(minors.map(lambda m: m % 10**9), st.integers(1, 999)), max_size=20), currencies)
def test_totals_in_minor_units_equal_exact_decimal_sums(lines: list[tuple[int, int]], currency: str) -> None:
    """A cart's arithmetic (unit price in minor units times quantity, summed) is the exact
    decimal sum: nothing is lost the way 0.1 + 0.2 is in floats."""
    total = Money.from_minor(sum(price * qty for price, qty in lines), currency)
    exact = sum((Money.from_minor(price, currency).amount * qty for price, qty in lines), Decimal(0))
    assert total.amount == exact
    assert not any(isinstance(v, float) for v in (total.amount, exact))


# --- The cart merge strategy ---

modes = st.sampled_from(list(FulfillmentMode))


def _line(variant: int, quantity: int, mode: FulfillmentMode, location: int) -> CartLineOp:
    return CartLineOp(None, variant, quantity, mode, None if mode is FulfillmentMode.SHIP else location)


line_ops = st.builds(_line, st.integers(1, 5), st.integers(1, 999), modes, st.integers(1, 3))


def _apply(current: list[CartLineOp], ops: list[CartLineOp]) -> Counter:
    """The store's documented rule: an added line joins its twin (same variant and fulfillment)."""
    lines: Counter = Counter()
    for op in [*current, *ops]:
        lines[(op.variant_id, op.mode, op.location_id)] += op.quantity or 0
    return lines


@FAST
@given(st.lists(line_ops, max_size=8), st.lists(line_ops, max_size=8))
def test_merging_adds_every_quantity_of_the_earlier_cart(current: list, earlier: list) -> None:
    current = [CartLineOp(i + 1, *(op.variant_id, op.quantity, op.mode, op.location_id))
               for i, op in enumerate(current)]  # fmt: skip
    ops = AddQuantities().merge(current, earlier)
    assert all(op.line_id is None and not op.remove for op in ops)  # adds only: nothing current is lost
    assert _apply(current, ops) == _apply(current, []) + _apply([], earlier)
    assert sum(_apply(current, ops).values()) == sum(op.quantity for op in [*current, *earlier])
    assert KeepCurrentCart().merge(current, earlier) == []
