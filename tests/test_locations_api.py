"""Stores and warehouses through the API: listings by kind and by distance, their fields, stock per
location, and store availability near a shopper. Expectations come from the demo data."""

import base64
from collections import defaultdict
from datetime import UTC, datetime
from math import asin, cos, radians, sin, sqrt

import pytest

from adapters.store.demo import demo_catalog

DEMO = demo_catalog()  # the rows every test database is seeded with; read only
LOCATIONS = {loc["id"]: loc for loc in DEMO.locations}
STORES = {key for key, loc in LOCATIONS.items() if loc["kind"] == "STORE"}
SEATTLE = {"latitude": 47.6062, "longitude": -122.3321}  # downtown, by Pioneer Square
SAN_FRANCISCO = {"latitude": 37.7749, "longitude": -122.4194}  # Civic Center
ON_HAND: dict[tuple[int, int], int] = {
    (level["variant_id"], level["location_id"]): level["on_hand"] for level in DEMO.inventory_levels
}

LOCATION_FIELDS = """
  id code name kind timezone pickupEnabled shipFromStoreEnabled
  address { address1 address2 city province provinceCode zip country countryCode phone }
  geo { latitude longitude }
  openingHours { day opens closes }
"""

LISTING = f"""
query ($first: Int, $after: String, $near: GeoPointInput, $radiusKm: Float,
       $kind: LocationKind) {{
  locations(first: $first, after: $after, near: $near, radiusKm: $radiusKm, kind: $kind) {{
    edges {{ cursor distanceKm node {{ {LOCATION_FIELDS} }} }}
    pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
  }}
}}"""

AVAILABILITY = """
query ($id: ID!, $near: GeoPointInput!, $radiusKm: Float, $first: Int, $inStockOnly: Boolean!) {
  node(id: $id) {
    ... on ProductVariant {
      storeAvailability(near: $near, radiusKm: $radiusKm, first: $first, inStockOnly: $inStockOnly) {
        available distanceKm pickupReadyBy
        location { id kind pickupEnabled }
      }
    }
  }
}"""


def gid(type_name: str, key: int | str) -> str:
    """A global id as the contract defines it: base64 of `Type:key`."""
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


def lid(key: int) -> str:
    return gid("Location", key)


def vid(key: int) -> str:
    return gid("ProductVariant", key)


def km(a: dict, b: dict) -> float:
    """Haversine distance, worked out independently of the gateway's own."""
    lat1, lat2 = radians(a["latitude"]), radians(b["latitude"])
    dlat, dlon = lat2 - lat1, radians(b["longitude"] - a["longitude"])
    h = sin(dlat / 2) ** 2 + cos(lat1) * cos(lat2) * sin(dlon / 2) ** 2
    return 2 * 6371.0088 * asin(sqrt(h))


def km_to(location_id: int, point: dict) -> float:
    loc = LOCATIONS[location_id]
    return km(point, {"latitude": loc["latitude"], "longitude": loc["longitude"]})


def by_distance(point: dict, keys) -> list[int]:
    return sorted(keys, key=lambda k: (km_to(k, point), k))


async def listing(api, **args) -> dict:
    return (await api.data(LISTING, args))["locations"]


def ids_of(connection: dict) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


async def availability(api, variant: int, near: dict, **args) -> list[dict]:
    variables = {"id": vid(variant), "near": near, "inStockOnly": False, **args}
    return (await api.data(AVAILABILITY, variables))["node"]["storeAvailability"]


def key_of(location_id: str) -> int:
    return next(k for k in LOCATIONS if lid(k) == location_id)


# --- listings ----------------------------------------------------------------------------------


async def test_locations_lists_every_location_in_id_order(api):
    everything = await listing(api)
    assert ids_of(everything) == [lid(k) for k in sorted(LOCATIONS)]
    assert len(everything["edges"]) == 12
    assert everything["pageInfo"]["hasNextPage"] is False
    assert all(edge["distanceKm"] is None for edge in everything["edges"])


async def test_locations_by_kind(api):
    stores = await listing(api, kind="STORE")
    warehouses = await listing(api, kind="WAREHOUSE")
    assert ids_of(stores) == [lid(k) for k in sorted(STORES)]
    assert len(stores["edges"]) == 10  # 8 in the US, 2 in British Columbia
    assert [lid(k) for k in sorted(set(LOCATIONS) - STORES)] == ids_of(warehouses)
    assert len(warehouses["edges"]) == 2
    assert {e["node"]["kind"] for e in stores["edges"]} == {"STORE"}
    assert {e["node"]["kind"] for e in warehouses["edges"]} == {"WAREHOUSE"}


async def test_location_fields_match_the_location(api):
    for edge in (await listing(api))["edges"]:
        node, demo = edge["node"], LOCATIONS[key_of(edge["node"]["id"])]
        assert (node["code"], node["name"], node["kind"]) == (
            demo["code"],
            demo["name"],
            demo["kind"],
        )
        assert node["address"] == {
            "address1": demo["address1"],
            "address2": demo["address2"],
            "city": demo["city"],
            "province": demo["province"],
            "provinceCode": demo["province_code"],
            "zip": demo["zip"],
            "country": demo["country"],
            "countryCode": demo["country_code"],
            "phone": demo["phone"],
        }
        assert node["geo"] == {"latitude": demo["latitude"], "longitude": demo["longitude"]}
        zone = "America/Vancouver" if demo["country_code"] == "CA" else "America/Los_Angeles"
        assert node["timezone"] == demo["timezone"] == zone
        assert node["pickupEnabled"] is demo["pickup_enabled"]
        assert node["shipFromStoreEnabled"] is demo["ship_from_store_enabled"]
        assert node["openingHours"] == demo["opening_hours"]


async def test_stores_have_opening_hours_and_warehouses_none(api):
    for edge in (await listing(api))["edges"]:
        node = edge["node"]
        if node["kind"] == "WAREHOUSE":
            assert node["openingHours"] == []
            assert node["pickupEnabled"] is False
            continue
        hours = node["openingHours"]
        assert 1 <= len(hours) <= 7
        days = [h["day"] for h in hours]
        assert len(set(days)) == len(days)
        for h in hours:
            assert len(h["opens"]) == len(h["closes"]) == 5
            assert h["opens"] < h["closes"]
    sacramento = next(loc for loc in DEMO.locations if loc["code"] == "SAC-MIDT")
    found = (await listing(api, kind="STORE"))["edges"]
    hours = next(e["node"]["openingHours"] for e in found if e["node"]["id"] == lid(sacramento["id"]))
    assert "SUNDAY" not in [h["day"] for h in hours]  # closed Sundays: the day is absent


async def test_location_by_id(api):
    query = f"query ($id: ID!) {{ location(id: $id) {{ {LOCATION_FIELDS} }} }}"
    for key in (1, 9):
        found = (await api.data(query, {"id": lid(key)}))["location"]
        assert found["id"] == lid(key)
        assert found["code"] == LOCATIONS[key]["code"]
        assert found["kind"] == LOCATIONS[key]["kind"]


# --- by distance -------------------------------------------------------------------------------


async def test_near_sorts_by_distance_with_the_seattle_store_first(api):
    near = await listing(api, near=SEATTLE)
    expected = by_distance(SEATTLE, LOCATIONS)
    assert ids_of(near) == [lid(k) for k in expected]
    first = near["edges"][0]["node"]
    assert (first["code"], first["address"]["city"]) == ("SEA-PIKE", "Seattle")
    distances = [edge["distanceKm"] for edge in near["edges"]]
    assert distances == sorted(distances)
    for edge, key in zip(near["edges"], expected, strict=True):
        assert abs(edge["distanceKm"] - km_to(key, SEATTLE)) < 0.01


async def test_a_radius_keeps_only_the_nearby_locations(api):
    within = [k for k in by_distance(SEATTLE, LOCATIONS) if km_to(k, SEATTLE) <= 30]
    found = await listing(api, near=SEATTLE, radiusKm=30)
    assert ids_of(found) == [lid(k) for k in within]
    assert all(edge["distanceKm"] <= 30 for edge in found["edges"])
    stores = await listing(api, near=SEATTLE, radiusKm=30, kind="STORE")
    assert ids_of(stores) == [lid(k) for k in within if k in STORES]
    assert {e["node"]["address"]["city"] for e in stores["edges"]} == {"Seattle", "Bellevue"}
    assert len(stores["edges"]) < len(STORES)


async def test_a_radius_of_zero_finds_nothing_away_from_a_location(api):
    assert (await listing(api, near=SEATTLE, radiusKm=0))["edges"] == []


async def test_distance_pages_continue_the_order_without_overlap(api):
    expected = [lid(k) for k in by_distance(SEATTLE, LOCATIONS)]
    seen, after, pages = [], None, 0
    while True:
        current = await listing(api, near=SEATTLE, first=3, after=after)
        chunk = ids_of(current)
        assert len(chunk) <= 3
        assert not set(chunk) & set(seen)
        seen.extend(chunk)
        pages += 1
        assert current["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not current["pageInfo"]["hasNextPage"]:
            break
        after = current["pageInfo"]["endCursor"]
        assert pages <= len(LOCATIONS)
    assert seen == expected
    assert pages == 4


# --- stock per location ------------------------------------------------------------------------


async def test_inventory_can_be_limited_to_some_locations(api):
    query = """query ($id: ID!, $locations: [ID!]) {
      node(id: $id) {
        ... on ProductVariant {
          all: inventory { available onHand reserved location { id } variant { id } }
          some: inventory(locationIds: $locations) { available onHand location { id } }
        }
      }
    }"""
    variant = DEMO.variants[0]["id"]
    wanted = [lid(3), lid(10)]
    node = (await api.data(query, {"id": vid(variant), "locations": wanted}))["node"]
    assert sorted(level["location"]["id"] for level in node["all"]) == sorted(lid(k) for k in LOCATIONS)
    assert sorted(level["location"]["id"] for level in node["some"]) == sorted(wanted)
    for level in node["all"]:
        key = key_of(level["location"]["id"])
        assert level["onHand"] == ON_HAND[(variant, key)]
        assert level["available"] == level["onHand"] - level["reserved"]
        assert level["variant"]["id"] == vid(variant)
    everywhere = {level["location"]["id"]: level for level in node["all"]}
    for level in node["some"]:
        assert level["onHand"] == everywhere[level["location"]["id"]]["onHand"]
    none = await api.data(query, {"id": vid(variant), "locations": []})
    assert none["node"]["some"] == []


async def test_quantity_available_is_the_sum_over_every_location(api):
    query = """{ products(first: 25) { nodes { variants {
      id quantityAvailable inventory { available }
    } } } }"""
    products = (await api.data(query))["products"]["nodes"]
    expected = defaultdict(int)
    for (variant, _), on_hand in ON_HAND.items():
        expected[vid(variant)] += on_hand
    for product in products:
        for variant in product["variants"]:
            assert variant["quantityAvailable"] == sum(x["available"] for x in variant["inventory"])
            assert variant["quantityAvailable"] == expected[variant["id"]]


# --- store availability ------------------------------------------------------------------------


def bay_area_variant() -> int:
    """A variant stocked at Berkeley (where pickup is off) and out of stock at another Bay Area
    store, while in stock at a third: every branch of pickupReadyBy near San Francisco."""
    berkeley, hayes, sacramento = (
        next(k for k, loc in LOCATIONS.items() if loc["code"] == code)
        for code in ("BRK-4TH", "SFO-HAYES", "SAC-MIDT")
    )
    for variant in DEMO.variants:
        stock = [ON_HAND[(variant["id"], k)] for k in (berkeley, hayes, sacramento)]
        if stock[0] > 0 and 0 in stock[1:] and max(stock[1:]) > 0:
            return variant["id"]
    raise AssertionError("the demo data has no such variant")


async def test_store_availability_lists_stores_by_distance(api):
    variant = DEMO.variants[0]["id"]
    found = await availability(api, variant, SEATTLE, radiusKm=20100.0, first=20)
    assert [a["location"]["id"] for a in found] == [lid(k) for k in by_distance(SEATTLE, STORES)]
    assert {a["location"]["kind"] for a in found} == {"STORE"}
    for entry in found:
        key = key_of(entry["location"]["id"])
        assert abs(entry["distanceKm"] - km_to(key, SEATTLE)) < 0.01
        assert entry["available"] == ON_HAND[(variant, key)]


async def test_store_availability_respects_radius_and_first(api):
    variant = DEMO.variants[0]["id"]
    within = [k for k in by_distance(SEATTLE, STORES) if km_to(k, SEATTLE) <= 300]
    assert 1 < len(within) < len(STORES)
    found = await availability(api, variant, SEATTLE, radiusKm=300.0, first=20)
    assert [a["location"]["id"] for a in found] == [lid(k) for k in within]
    assert all(a["distanceKm"] <= 300 for a in found)
    two = await availability(api, variant, SEATTLE, radiusKm=20100.0, first=2)
    assert [a["location"]["id"] for a in two] == [lid(k) for k in by_distance(SEATTLE, STORES)[:2]]
    default = await availability(api, variant, SEATTLE, radiusKm=20100.0)
    assert len(default) == 5  # `first` defaults to 5


async def test_store_availability_in_stock_only_drops_empty_stores(api):
    variant = bay_area_variant()
    args = {"radiusKm": 20100.0, "first": 20}
    api.stop_clock()  # the two answers' pickup times are compared
    every = await availability(api, variant, SAN_FRANCISCO, **args)
    stocked = await availability(api, variant, SAN_FRANCISCO, inStockOnly=True, **args)
    assert any(a["available"] == 0 for a in every)
    assert stocked == [a for a in every if a["available"] > 0]


@pytest.mark.dates
async def test_pickup_ready_by_is_set_only_where_pickup_can_happen(api):
    variant = bay_area_variant()
    found = await availability(api, variant, SAN_FRANCISCO, radiusKm=150.0, first=10)
    assert [a["location"]["id"] for a in found] == [
        lid(k) for k in by_distance(SAN_FRANCISCO, STORES) if km_to(k, SAN_FRANCISCO) <= 150
    ]
    now = datetime.now(UTC)
    kinds = set()
    for entry in found:
        if entry["available"] == 0 or not entry["location"]["pickupEnabled"]:
            assert entry["pickupReadyBy"] is None, entry
            kinds.add("none" if entry["available"] == 0 else "disabled")
        else:
            ready = datetime.fromisoformat(entry["pickupReadyBy"])
            assert ready.tzinfo is not None, entry
            assert ready > now, entry
            kinds.add("ready")
    assert kinds == {"none", "disabled", "ready"}
