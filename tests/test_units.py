"""Units of the pure parts: id and cursor codecs, money, distances, pickup times, the bus."""

import asyncio
import base64
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from adapters.records import (
    Address,
    DayOfWeek,
    GeoPoint,
    LocationKind,
    LocationRecord,
    Money,
    OpeningHours,
)
from gateway.events.bus import InProcessEventBus
from resolvers.context import CommercePolicy
from resolvers.errors import BadUserInput
from resolvers.geo import checked_point, checked_radius, distance_km
from resolvers.pagination import PageArgs, decode_cursor, encode_cursor, page_size
from resolvers.pickup import pickup_ready_by
from schema.ids import decode_id, from_global_id, to_global_id

pytestmark = pytest.mark.dates  # reads the date: CI runs it again a year ahead (.ci/run)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_global_ids_round_trip_and_are_base64_of_type_and_key():
    assert to_global_id("Product", 42) == b64("Product:42")
    assert decode_id(to_global_id("Product", 42), "Product") == 42


@pytest.mark.parametrize(
    "value",
    [
        "",
        "%%%",
        "UHJvZHVjdDox=",
        b64("Product"),
        b64("Product:"),
        b64(":1"),
        b64("Product:x"),
        b64("Product:007"),
        b64("Product:-1"),
        b64("Product:1.0"),
        b64("Product:\u0661"),
    ],
)
def test_malformed_ids_are_bad_user_input(value):
    with pytest.raises(BadUserInput):
        decode_id(value, "Product")


def test_a_foreign_id_is_refused():
    with pytest.raises(BadUserInput, match="Product"):
        decode_id(to_global_id("Location", 1), "Product")
    assert from_global_id(to_global_id("Location", 1)) == ("Location", "1")


def test_cursors_round_trip_and_carry_their_ordering():
    cursor = encode_cursor("TITLE", ("Alpine Shell", 7))
    assert decode_cursor(cursor, "TITLE", str, "after") == ("Alpine Shell", 7)
    with pytest.raises(BadUserInput):
        decode_cursor(cursor, "ID", int, "after")
    for garbage in ["", "!!", b64("[1,2]"), b64('["TITLE","x","7"]'), b64("null")]:
        with pytest.raises(BadUserInput):
            decode_cursor(garbage, "TITLE", str, "after")


def test_page_size_limits():
    policy = CommercePolicy(max_page_size=250, default_page_size=50)
    assert page_size(PageArgs(), policy) == (50, False)
    assert page_size(PageArgs(last=3), policy) == (3, True)
    for args in (PageArgs(first=251), PageArgs(first=-1), PageArgs(first=1, last=1)):
        with pytest.raises(BadUserInput):
            page_size(args, policy)


def test_money_is_exact_in_minor_units():
    assert Money.from_minor(4995, "USD").amount == Decimal("49.95")
    assert Money.from_minor(1000, "JPY").amount == Decimal("1000")
    assert Money.from_minor(1, "USD").to_minor() == 1
    assert str(Money.from_minor(5750, "USD").amount) == "57.50"


def test_haversine_distance_between_known_cities():
    seattle, portland = GeoPoint(47.6062, -122.3321), GeoPoint(45.5152, -122.6784)
    assert distance_km(seattle, portland) == pytest.approx(233.8, abs=1.5)
    assert distance_km(seattle, seattle) == 0


def test_points_and_radii_are_checked():
    with pytest.raises(BadUserInput):
        checked_point(GeoPoint(91, 0))
    with pytest.raises(BadUserInput):
        checked_point(GeoPoint(float("nan"), 0))
    with pytest.raises(BadUserInput):
        checked_radius(-1, 50)
    assert checked_radius(None, 50) == 50


def store(pickup=True, hours=None):
    week = [OpeningHours(day, "10:00", "20:00") for day in DayOfWeek if day is not DayOfWeek.SUNDAY]
    return LocationRecord(
        id=1,
        code="SEA",
        name="Seattle",
        kind=LocationKind.STORE,
        address=Address(
            "1 Pike St", None, "Seattle", "Washington", "WA", "98101", "United States", "US", None
        ),
        geo=GeoPoint(47.6, -122.3),
        timezone="America/Los_Angeles",
        pickup_enabled=pickup,
        ship_from_store_enabled=False,
        opening_hours=tuple(week if hours is None else hours),
    )


def pacific(*args):
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo("America/Los_Angeles"))


@pytest.mark.parametrize(
    ("now", "ready"),
    [
        (pacific(2026, 11, 23, 11, 0), pacific(2026, 11, 23, 13, 0)),  # Monday, open: now + 2h
        (pacific(2026, 11, 23, 7, 0), pacific(2026, 11, 23, 12, 0)),  # before opening
        (pacific(2026, 11, 23, 19, 0), pacific(2026, 11, 24, 12, 0)),  # too late today
        (
            pacific(2026, 11, 28, 19, 0),
            pacific(2026, 11, 30, 12, 0),
        ),  # Saturday night: closed Sunday
    ],
)
def test_pickup_is_ready_lead_time_after_opening(now, ready):
    got = pickup_ready_by(store(), now.astimezone(UTC), timedelta(hours=2))
    assert got == ready.astimezone(UTC)
    assert got.tzinfo is not None


def test_no_pickup_where_it_is_disabled_or_never_open():
    now = datetime(2026, 11, 23, 18, tzinfo=UTC)
    assert pickup_ready_by(store(pickup=False), now, timedelta(hours=2)) is None
    assert pickup_ready_by(store(hours=[]), now, timedelta(hours=2)) is None


class Event:
    topic = "stock"

    def __init__(self, n):
        self.n = n


async def test_bus_delivers_in_order_and_drops_a_subscriber_that_falls_behind():
    bus = InProcessEventBus(queue_size=3)
    fast, slow = bus.subscribe("stock"), bus.subscribe("stock")
    fast_first = asyncio.ensure_future(anext(fast))
    slow_first = asyncio.ensure_future(anext(slow))
    await asyncio.sleep(0)
    await bus.publish(Event(0))
    assert (await fast_first).n == 0 and (await slow_first).n == 0
    seen = []
    for n in range(1, 8):
        await bus.publish(Event(n))
        seen.append((await anext(fast)).n)  # the fast one keeps up
    assert seen == list(range(1, 8))
    # The slow one got its three, then its stream ended rather than holding the publisher back.
    assert [e.n async for e in slow] == [1, 2, 3]


async def test_bus_tells_the_transport_at_once_when_it_drops_a_subscriber():
    """`on_drop` is called when the queue overflows, not when the subscriber next reads: the
    transport closes a stalled client's connection without waiting for it."""
    bus = InProcessEventBus(queue_size=2)
    dropped: list[str] = []
    stalled = bus.subscribe("stock", lambda: dropped.append("stalled"), audience=lambda: 5)
    first = asyncio.ensure_future(anext(stalled))
    await asyncio.sleep(0)
    assert bus.subscribers == 5  # a shared execution counts for everyone it serves
    for n in range(4):
        await bus.publish(Event(n))
    assert dropped == ["stalled"] and bus.dropped == 1 and bus.subscribers == 0
    assert (await first).n == 0
    assert [e.n async for e in stalled] == [1]  # what it had queued, then the end
