"""The demo retailer: deterministic, internally consistent, and shaped like the database rows."""

import re
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import pytest

from adapters.store.demo import demo_catalog

pytestmark = pytest.mark.dates  # reads the date: CI runs it again a year ahead (.ci/run)

NOW = datetime(2026, 11, 1, tzinfo=UTC)
CATALOG = demo_catalog()  # built once: every test below only reads it

PRODUCT_KEYS = {
    "id", "handle", "title", "description", "vendor", "category", "tags", "images",
    "created_at", "updated_at",
}  # fmt: skip
VARIANT_KEYS = {
    "id", "product_id", "sku", "title", "options", "position", "price_minor", "compare_at_minor",
}  # fmt: skip
LOCATION_KEYS = {
    "id", "code", "name", "kind", "address1", "address2", "city", "province", "province_code",
    "zip", "country", "country_code", "phone", "latitude", "longitude", "timezone",
    "pickup_enabled", "ship_from_store_enabled", "opening_hours",
}  # fmt: skip
INVENTORY_KEYS = {"variant_id", "location_id", "on_hand", "reserved", "updated_at"}

OPTION_NAMES = {
    "Jackets": ["Size", "Color"],
    "Fleece & Midlayers": ["Size", "Color"],
    "Base Layers": ["Size", "Color"],
    "Pants": ["Size", "Color"],
    "Shorts": ["Size", "Color"],
    "Footwear": ["Size", "Color"],
    "Backpacks": ["Volume", "Color"],
    "Tents": ["Capacity"],
    "Sleeping Bags": ["Temperature Rating", "Length"],
    "Accessories": ["Color"],
}


def _stores():
    return [loc for loc in CATALOG.locations if loc["kind"] == "STORE"]


def _store_ids():
    return {loc["id"] for loc in _stores()}


def test_same_seed_gives_identical_output():
    assert demo_catalog(7, NOW) == demo_catalog(7, NOW)
    assert demo_catalog() == CATALOG
    assert demo_catalog(seed=7, now=NOW) == CATALOG  # `now` defaults to a fixed instant


def test_different_seed_gives_different_catalog():
    other = demo_catalog(8)
    assert [p["title"] for p in other.products] != [p["title"] for p in CATALOG.products]


def test_rows_have_exactly_the_column_keys():
    assert all(set(p) == PRODUCT_KEYS for p in CATALOG.products)
    assert all(set(v) == VARIANT_KEYS for v in CATALOG.variants)
    assert all(set(loc) == LOCATION_KEYS for loc in CATALOG.locations)
    assert all(set(row) == INVENTORY_KEYS for row in CATALOG.inventory_levels)


def test_product_count_and_ids():
    assert 190 <= len(CATALOG.products) <= 210
    assert [p["id"] for p in CATALOG.products] == list(range(1, len(CATALOG.products) + 1))


def test_categories_are_spread():
    counts = Counter(p["category"] for p in CATALOG.products)
    assert set(counts) == set(OPTION_NAMES)
    assert all(10 <= n <= 30 for n in counts.values()), counts


def test_handles_titles_and_skus_are_unique():
    handles = [p["handle"] for p in CATALOG.products]
    titles = [p["title"] for p in CATALOG.products]
    skus = [v["sku"] for v in CATALOG.variants]
    assert len(set(handles)) == len(handles)
    assert len(set(titles)) == len(titles)
    assert len(set(skus)) == len(skus)
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", h) for h in handles)


def test_product_content():
    vendors = Counter(p["vendor"] for p in CATALOG.products)
    assert 3 <= len(vendors) <= 8
    for product in CATALOG.products:
        assert product["description"].endswith(".")
        assert 1 <= len(product["tags"]) <= 4
        assert all(tag == tag.lower() for tag in product["tags"])
        assert 1 <= len(product["images"]) <= 3
        for n, image in enumerate(product["images"], start=1):
            assert image["url"] == f"https://images.example.com/{product['handle']}-{n}.jpg"
            assert image["altText"]
            assert (image["width"], image["height"]) == (1200, 1600)
    assert len({p["description"] for p in CATALOG.products}) > 100  # copy varies


def test_variants_per_product_ids_and_positions():
    assert [v["id"] for v in CATALOG.variants] == list(range(1, len(CATALOG.variants) + 1))
    product_ids = [v["product_id"] for v in CATALOG.variants]
    assert product_ids == sorted(product_ids)  # numbered in product order
    per_product = Counter(product_ids)
    assert set(per_product) == {p["id"] for p in CATALOG.products}
    assert all(2 <= n <= 4 for n in per_product.values())
    for pid, count in per_product.items():
        positions = [v["position"] for v in CATALOG.variants if v["product_id"] == pid]
        assert positions == list(range(1, count + 1))


def test_variant_options_follow_the_category():
    category = {p["id"]: p["category"] for p in CATALOG.products}
    seen: dict[int, set] = {}
    for variant in CATALOG.variants:
        names = [o["name"] for o in variant["options"]]
        values = tuple(o["value"] for o in variant["options"])
        expected = OPTION_NAMES[category[variant["product_id"]]]
        assert names == expected[: len(names)] and names, variant
        assert variant["title"] == " / ".join(values)
        assert values not in seen.setdefault(variant["product_id"], set())
        seen[variant["product_id"]].add(values)
        assert variant["sku"].split("-")[2] == f"{variant['product_id']:04d}"


def test_prices_are_realistic():
    category = {p["id"]: p["category"] for p in CATALOG.products}
    bounds = {"Accessories": (1200, 4500), "Jackets": (12000, 45000), "Tents": (18000, 65000)}
    for variant in CATALOG.variants:
        price = variant["price_minor"]
        assert isinstance(price, int) and price > 0
        assert price % 100 in (0, 50, 95), price
        low, high = bounds.get(category[variant["product_id"]], (1000, 70000))
        assert low <= price <= high, variant


def test_compare_at_is_above_price_when_set():
    on_sale = [v for v in CATALOG.variants if v["compare_at_minor"] is not None]
    assert on_sale
    assert all(v["compare_at_minor"] > v["price_minor"] for v in on_sale)
    sale_products = {v["product_id"] for v in on_sale}
    assert 0.1 <= len(sale_products) / len(CATALOG.products) <= 0.3


def test_locations_are_eight_stores_two_warehouses_then_two_canadian_stores():
    kinds = [loc["kind"] for loc in CATALOG.locations]
    assert kinds == ["STORE"] * 8 + ["WAREHOUSE"] * 2 + ["STORE"] * 2
    assert [loc["id"] for loc in CATALOG.locations] == list(range(1, 13))
    assert len({loc["code"] for loc in CATALOG.locations}) == 12
    assert [loc["city"] for loc in CATALOG.locations[10:]] == ["Vancouver", "Victoria"]


def test_locations_are_on_the_us_west_coast_and_in_british_columbia():
    for loc in CATALOG.locations:
        if loc["country_code"] == "CA":
            assert 48.3 <= loc["latitude"] <= 49.4 and -123.5 <= loc["longitude"] <= -123.0, loc["code"]
            assert (loc["country"], loc["province_code"], loc["timezone"]) == (
                "Canada", "BC", "America/Vancouver"
            )  # fmt: skip
        else:
            assert 32.5 <= loc["latitude"] <= 49.0, loc["code"]
            assert -124.8 <= loc["longitude"] <= -114.0, loc["code"]
            assert (loc["country"], loc["country_code"]) == ("United States", "US")
            assert loc["province_code"] in {"WA", "OR", "CA", "NV"}
            assert loc["timezone"] == "America/Los_Angeles"
        assert re.fullmatch(r"\+1 \d{3}-555-01\d{2}", loc["phone"]), loc["phone"]


def test_the_second_market_leaves_the_us_stock_as_it_was():
    """The Canadian stores draw their stock from a Random of their own: ids and figures of the
    US locations are what they were before the second market."""
    us = [r for r in CATALOG.inventory_levels if r["location_id"] <= 10]
    assert len(us) == 10 * len(CATALOG.variants)
    assert sum(r["on_hand"] for r in us if r["variant_id"] == 1) == US_STOCK_OF_VARIANT_1


US_STOCK_OF_VARIANT_1 = 276  # fixed by seed 7 before the Canadian stores existed


def test_markets_and_price_lists():
    assert CATALOG.markets == [
        {"country_code": "US", "currency_code": "USD"}, {"country_code": "CA", "currency_code": "CAD"},
    ]  # fmt: skip
    lists = {pl["code"]: pl for pl in CATALOG.price_lists}
    assert [pl["id"] for pl in CATALOG.price_lists] == list(range(1, len(lists) + 1))
    vancouver = CATALOG.locations[10]["id"]
    assert {code for code, pl in lists.items() if pl["location_id"] == vancouver} == {"CA-YVR", "CA-YVR-GOLD"}
    assert {code for code, pl in lists.items() if pl["channel"] == "MOBILE_APP"} == {"US-APP", "CA-APP"}
    assert {code for code, pl in lists.items() if pl["member_tier"] == "GOLD"} == {
        "US-GOLD", "CA-GOLD", "CA-YVR-GOLD"
    }  # fmt: skip
    spring = lists["CA-SPRING-2026"]
    assert spring["valid_from"] < spring["valid_until"] < NOW  # dated, and over before the demo's now
    assert all(pl["valid_from"] is None for code, pl in lists.items() if code != "CA-SPRING-2026")


def test_every_variant_has_a_canadian_price_and_variant_1_is_on_every_list():
    by_list: dict[int, dict[int, dict]] = {}
    for row in CATALOG.prices:
        by_list.setdefault(row["price_list_id"], {})[row["variant_id"]] = row
    standard = by_list[1]
    # Every variant but those of the products not sold in Canada (product ids 20, 40, ...).
    assert set(standard) == {v["id"] for v in CATALOG.variants if v["product_id"] % 20}
    assert {v["product_id"] for v in CATALOG.variants if v["id"] not in standard} == set(range(20, 201, 20))
    assert all(row["amount_minor"] % 100 == 95 for row in standard.values())
    assert all(1 in rows for rows in by_list.values())
    us = {v["id"]: v["price_minor"] for v in CATALOG.variants}
    for list_id, rows in by_list.items():
        code = CATALOG.price_lists[list_id - 1]["code"]
        for variant_id, row in rows.items():
            if code == "CA-STANDARD":
                assert row["amount_minor"] > us[variant_id]  # the Canadian shelf price
                continue
            # Every other list takes something off the shelf price it names as compare-at.
            assert row["compare_at_minor"] > row["amount_minor"] > 0, (code, row)
            base = us[variant_id] if code.startswith("US-") else standard[variant_id]["amount_minor"]
            assert row["compare_at_minor"] == base


def test_location_services_and_hours():
    stores = _stores()
    warehouses = [loc for loc in CATALOG.locations if loc["kind"] == "WAREHOUSE"]
    assert sum(not s["pickup_enabled"] for s in stores) == 1
    assert 2 <= sum(s["ship_from_store_enabled"] for s in stores) <= 6
    for wh in warehouses:
        assert not wh["pickup_enabled"] and not wh["ship_from_store_enabled"]
        assert wh["opening_hours"] == []
    closed_sunday = [s for s in stores if "SUNDAY" not in {h["day"] for h in s["opening_hours"]}]
    assert len(closed_sunday) == 1
    for store in stores:
        hours = {h["day"]: h for h in store["opening_hours"]}
        assert len(hours) == len(store["opening_hours"]) in (6, 7)
        assert all(h["opens"] < h["closes"] for h in hours.values())
        if "SUNDAY" in hours:  # Sunday is the short day
            assert hours["SUNDAY"]["closes"] < hours["MONDAY"]["closes"]


def test_inventory_covers_every_variant_at_every_location_once():
    pairs = Counter((r["variant_id"], r["location_id"]) for r in CATALOG.inventory_levels)
    expected = {(v["id"], loc["id"]) for v in CATALOG.variants for loc in CATALOG.locations}
    assert set(pairs) == expected
    assert set(pairs.values()) == {1}
    assert all(r["on_hand"] >= 0 and r["reserved"] == 0 for r in CATALOG.inventory_levels)
    assert all(r["updated_at"] == NOW for r in CATALOG.inventory_levels)


def test_stock_distribution_is_realistic():
    store_ids = _store_ids()
    store_rows = [r for r in CATALOG.inventory_levels if r["location_id"] in store_ids]
    zero_share = sum(r["on_hand"] == 0 for r in store_rows) / len(store_rows)
    assert 0.1 <= zero_share <= 0.3, zero_share
    assert all(r["on_hand"] <= 15 for r in store_rows)
    assert any(r["on_hand"] > 0 for r in store_rows)
    warehouse_stock = [r["on_hand"] for r in CATALOG.inventory_levels if r["location_id"] not in store_ids]
    assert all(n == 0 or 20 <= n <= 200 for n in warehouse_stock)


def test_some_variants_sold_out_and_some_products_warehouse_only():
    store_ids = _store_ids()
    totals: Counter = Counter()
    store_totals: Counter = Counter()
    for row in CATALOG.inventory_levels:
        totals[row["variant_id"]] += row["on_hand"]
        if row["location_id"] in store_ids:
            store_totals[row["variant_id"]] += row["on_hand"]
    sold_out = [v for v in CATALOG.variants if totals[v["id"]] == 0]
    assert 1 <= len(sold_out) <= 0.06 * len(CATALOG.variants)
    product_store = Counter()
    product_total = Counter()
    for variant in CATALOG.variants:
        product_store[variant["product_id"]] += store_totals[variant["id"]]
        product_total[variant["product_id"]] += totals[variant["id"]]
    assert any(product_store[p] == 0 and product_total[p] > 0 for p in product_total)


def test_datetimes_are_utc_and_within_two_years():
    for product in CATALOG.products:
        created, updated = product["created_at"], product["updated_at"]
        assert created.utcoffset() == timedelta(0) and updated.utcoffset() == timedelta(0)
        assert NOW - timedelta(days=731) <= created <= updated <= NOW


def test_now_is_respected_and_normalised_to_utc():
    pacific = timezone(timedelta(hours=-8))
    now = datetime(2025, 3, 1, 4, 0, tzinfo=pacific)
    catalog = demo_catalog(3, now)
    assert catalog == demo_catalog(3, now)
    assert all(p["updated_at"] <= now for p in catalog.products)
    assert all(r["updated_at"].tzinfo == UTC for r in catalog.inventory_levels)
    assert all(r["updated_at"] == now for r in catalog.inventory_levels)


def test_naive_now_is_rejected():
    with pytest.raises(ValueError):
        demo_catalog(now=datetime(2026, 11, 1))
