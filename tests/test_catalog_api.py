"""The catalog through the API: product pages and cursors, search and filters, lookups by id and
handle, `node`/`nodes`, money and availability. Expectations come from the demo data."""

import base64
import json
import re
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa

from adapters.store.demo import demo_catalog
from adapters.store.tables import products as products_table

DEMO = demo_catalog()  # the rows every test database is seeded with; read only
PRODUCT_COUNT = len(DEMO.products)
TITLE_ORDER = [p["id"] for p in sorted(DEMO.products, key=lambda p: (p["title"], p["id"]))]

PAGE = """
query ($first: Int, $after: String, $last: Int, $before: String, $query: String,
       $category: String, $availableAt: [ID!], $sortKey: ProductSortKeys! = ID,
       $reverse: Boolean! = false) {
  products(first: $first, after: $after, last: $last, before: $before, query: $query,
           category: $category, availableAt: $availableAt, sortKey: $sortKey, reverse: $reverse) {
    edges { cursor node { id title category } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""

PRODUCT_FIELDS = """
  id handle title category vendor availableForSale
  priceRange { minVariantPrice { amount currencyCode } maxVariantPrice { amount currencyCode } }
  variants {
    id sku title quantityAvailable
    selectedOptions { name value }
    price { amount currencyCode }
    compareAtPrice { amount currencyCode }
    product { id }
  }
"""


def gid(type_name: str, key: int | str) -> str:
    """A global id as the contract defines it: base64 of `Type:key`."""
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


def pid(key: int) -> str:
    return gid("Product", key)


def vid(key: int) -> str:
    return gid("ProductVariant", key)


def lid(key: int) -> str:
    return gid("Location", key)


def key_of(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().partition(":")[2])


async def page(api, **args):
    return (await api.data(PAGE, args))["products"]


def ids_of(connection) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


async def walk_forward(api, size: int, after: str | None = None, **args) -> list[list[str]]:
    """Every page of a listing from `after` (or the start) to the end, following `endCursor`."""
    pages = []
    while True:
        current = await page(api, first=size, after=after, **args)
        pages.append(ids_of(current))
        if not current["pageInfo"]["hasNextPage"]:
            return pages
        after = current["pageInfo"]["endCursor"]
        assert len(pages) <= PRODUCT_COUNT, "the listing never ends"


async def every_product(api, after: str | None = None, **args) -> list[str]:
    return [key for chunk in await walk_forward(api, 250, after, **args) for key in chunk]


def searchable(product: dict) -> list[str]:
    """What a search term is matched against: title, description, vendor, tags and SKUs."""
    skus = [v["sku"] for v in DEMO.variants if v["product_id"] == product["id"]]
    fields = [product["title"], product["description"], product["vendor"]]
    return [text.lower() for text in [*fields, json.dumps(product["tags"]), *skus]]


def expected_search(query: str) -> list[str]:
    terms = query.lower().split()
    return [
        pid(p["id"])
        for p in sorted(DEMO.products, key=lambda p: p["id"])
        if all(any(term in text for text in searchable(p)) for term in terms)
    ]


async def insert_product(api, *, title: str, key: int | None = None) -> None:
    now = datetime.now(UTC)
    row = {
        "handle": re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-"),
        "title": title,
        "description": "Inserted by a test.",
        "vendor": "Test Vendor",
        "category": "Accessories",
        "tags": [],
        "images": [],
        "created_at": now,
        "updated_at": now,
    }
    if key is not None:
        row["id"] = key
    async with api.store.engine.begin() as conn:
        await conn.execute(sa.insert(products_table).values(**row))


async def product_details(api, key: int) -> dict:
    query = f"query ($id: ID!) {{ product(id: $id) {{ {PRODUCT_FIELDS} }} }}"
    return (await api.data(query, {"id": pid(key)}))["product"]


# --- pages -------------------------------------------------------------------------------------


async def test_the_default_page_is_the_first_products_by_id(api):
    size = api.gateway.policy.default_page_size
    assert size < PRODUCT_COUNT
    first = await page(api)
    assert ids_of(first) == [pid(n) for n in range(1, size + 1)]
    info = first["pageInfo"]
    assert info["hasNextPage"] is True
    assert info["hasPreviousPage"] is False
    assert info["startCursor"] == first["edges"][0]["cursor"]
    assert info["endCursor"] == first["edges"][-1]["cursor"]


async def test_first_sets_the_page_size_and_page_info_follows(api):
    first = await page(api, first=7)
    assert ids_of(first) == [pid(n) for n in range(1, 8)]
    assert len({edge["cursor"] for edge in first["edges"]}) == 7
    second = await page(api, first=7, after=first["pageInfo"]["endCursor"])
    assert ids_of(second) == [pid(n) for n in range(8, 15)]
    assert second["pageInfo"]["hasPreviousPage"] is True
    assert second["pageInfo"]["hasNextPage"] is True
    assert second["pageInfo"]["startCursor"] == second["edges"][0]["cursor"]
    assert second["pageInfo"]["endCursor"] == second["edges"][-1]["cursor"]


async def test_the_last_page_says_there_is_no_next_page(api):
    everything = await page(api, first=PRODUCT_COUNT)
    assert len(everything["edges"]) == PRODUCT_COUNT
    assert everything["pageInfo"]["hasNextPage"] is False
    past_the_end = await page(api, first=5, after=everything["pageInfo"]["endCursor"])
    assert past_the_end["edges"] == []
    assert past_the_end["pageInfo"]["hasNextPage"] is False
    assert past_the_end["pageInfo"]["startCursor"] is None
    assert past_the_end["pageInfo"]["endCursor"] is None


async def test_walking_forward_yields_every_product_once_in_id_order(api):
    pages = await walk_forward(api, 30)
    assert [len(chunk) for chunk in pages] == [30] * 6 + [20]
    walked = [key for chunk in pages for key in chunk]
    assert walked == [pid(p["id"]) for p in sorted(DEMO.products, key=lambda p: p["id"])]
    assert len(set(walked)) == PRODUCT_COUNT


async def test_walking_backward_gives_the_same_products_from_the_end(api):
    forward = await every_product(api)
    seen, before = [], None
    while True:
        current = await page(api, last=30, before=before)
        chunk = ids_of(current)
        seen.extend(reversed(chunk))  # a backward page still reads in listing order
        if not current["pageInfo"]["hasPreviousPage"]:
            break
        assert current["pageInfo"]["hasNextPage"] is (before is not None)
        before = current["pageInfo"]["startCursor"]
        assert len(seen) <= PRODUCT_COUNT
    assert seen == list(reversed(forward))


async def test_last_without_before_is_the_tail_of_the_listing(api):
    tail = await page(api, last=4)
    assert ids_of(tail) == [pid(n) for n in range(PRODUCT_COUNT - 3, PRODUCT_COUNT + 1)]
    assert tail["pageInfo"]["hasPreviousPage"] is True
    assert tail["pageInfo"]["hasNextPage"] is False


async def test_sort_by_title_lists_titles_in_order(api):
    titles = [edge["node"]["title"] for edge in (await page(api, first=250, sortKey="TITLE"))["edges"]]
    assert len(titles) == PRODUCT_COUNT
    assert titles == sorted(titles)
    walked = await every_product(api, sortKey="TITLE")
    assert walked == [pid(n) for n in TITLE_ORDER]
    assert [key for chunk in await walk_forward(api, 17, sortKey="TITLE") for key in chunk] == walked


async def test_reverse_lists_from_the_other_end(api):
    newest = await page(api, first=5, reverse=True)
    assert ids_of(newest) == [pid(n) for n in range(PRODUCT_COUNT, PRODUCT_COUNT - 5, -1)]
    walked = [key for chunk in await walk_forward(api, 40, reverse=True) for key in chunk]
    assert walked == list(reversed(await every_product(api)))
    by_title = await every_product(api, sortKey="TITLE", reverse=True)
    assert by_title == [pid(n) for n in reversed(TITLE_ORDER)]


async def test_sort_by_creation_time_follows_created_at(api):
    expected = sorted(DEMO.products, key=lambda p: (p["created_at"], p["id"]))
    walked = [key for chunk in await walk_forward(api, 45, sortKey="CREATED_AT") for key in chunk]
    assert walked == [pid(p["id"]) for p in expected]


async def test_pages_never_overlap(api):
    for args in (
        {},
        {"sortKey": "TITLE"},
        {"reverse": True},
        {"sortKey": "TITLE", "reverse": True},
    ):
        pages = await walk_forward(api, 23, **args)
        seen: set[str] = set()
        for chunk in pages:
            assert seen.isdisjoint(chunk), args
            seen.update(chunk)
        assert len(seen) == PRODUCT_COUNT, args


# --- cursors survive inserts -------------------------------------------------------------------


async def test_a_title_cursor_continues_after_an_insert_before_it(api):
    first = await page(api, first=10, sortKey="TITLE")
    assert ids_of(first) == [pid(n) for n in TITLE_ORDER[:10]]
    # Sorts before every title of page 1, so positional paging would repeat the last row.
    await insert_product(api, title="Aaa Inserted Beanie", key=5000)
    second = await page(api, first=10, after=first["pageInfo"]["endCursor"], sortKey="TITLE")
    assert ids_of(second) == [pid(n) for n in TITLE_ORDER[10:20]]
    assert (await page(api, first=1, sortKey="TITLE"))["edges"][0]["node"]["id"] == pid(5000)


async def test_a_title_cursor_continues_after_an_insert_inside_the_page_seen(api):
    first = await page(api, first=10, sortKey="TITLE")
    titles = [edge["node"]["title"] for edge in first["edges"]]
    inside = titles[4] + " Inserted"  # sorts between the 5th and 6th rows already seen
    assert titles[4] < inside < titles[5]
    await insert_product(api, title=inside)
    rest = await every_product(api, sortKey="TITLE", after=first["pageInfo"]["endCursor"])
    assert rest == [pid(n) for n in TITLE_ORDER[10:]]


async def test_an_id_cursor_continues_after_an_insert_with_a_high_id(api):
    first = await page(api, first=10)
    await insert_product(api, title="Zz Inserted Mug", key=9000)
    rest = await every_product(api, after=first["pageInfo"]["endCursor"])
    assert rest == [pid(n) for n in range(11, PRODUCT_COUNT + 1)] + [pid(9000)]


# --- search and filters ------------------------------------------------------------------------


async def test_query_matches_titles_case_insensitively(api):
    expected = expected_search("alpine")
    assert len(expected) >= 5
    assert await every_product(api, query="alpine") == expected
    assert await every_product(api, query="ALPINE") == expected
    assert await every_product(api, query="aLpInE") == expected


async def test_query_matches_vendors(api):
    expected = expected_search("tidewater")
    vendor = {pid(p["id"]) for p in DEMO.products if p["vendor"] == "Tidewater Supply"}
    assert vendor and vendor <= set(expected)
    assert await every_product(api, query="Tidewater") == expected


async def test_query_matches_skus(api):
    variant = DEMO.variants[42]
    found = await every_product(api, query=variant["sku"].lower())
    assert found == [pid(variant["product_id"])]
    stem = variant["sku"].rsplit("-", len(variant["options"]))[0]  # e.g. CO-BSL-0012
    assert await every_product(api, query=stem.lower()) == [pid(variant["product_id"])]


async def test_query_words_are_all_required(api):
    alpine, jacket = expected_search("alpine"), expected_search("jacket")
    both = expected_search("alpine jacket")
    assert both and set(both) < set(alpine) and set(both) < set(jacket)
    assert await every_product(api, query="alpine jacket") == both
    assert await every_product(api, query="Jacket  ALPINE") == both


async def test_query_without_a_match_is_an_empty_page(api):
    empty = await page(api, query="xylophone")
    assert empty["edges"] == []
    assert empty["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": False,
        "startCursor": None,
        "endCursor": None,
    }
    assert (await page(api, query="alpine xylophone"))["edges"] == []


async def test_category_filter_is_case_insensitive(api):
    expected = [pid(p["id"]) for p in DEMO.products if p["category"] == "Fleece & Midlayers"]
    assert 0 < len(expected) < PRODUCT_COUNT
    for spelling in ("Fleece & Midlayers", "fleece & midlayers", "FLEECE & MIDLAYERS"):
        found = await page(api, first=250, category=spelling)
        assert ids_of(found) == expected, spelling
        assert {edge["node"]["category"] for edge in found["edges"]} == {"Fleece & Midlayers"}
    assert (await page(api, category="Fleece"))["edges"] == []


async def test_category_and_query_combine(api):
    jackets = {pid(p["id"]) for p in DEMO.products if p["category"] == "Jackets"}
    expected = [key for key in expected_search("alpine") if key in jackets]
    assert expected
    assert await every_product(api, query="alpine", category="jackets") == expected


async def test_categories_lists_every_category_once(api):
    names = (await api.data("{ categories }"))["categories"]
    assert sorted(names) == sorted({p["category"] for p in DEMO.products})
    assert len(names) == 10


async def test_available_at_keeps_only_products_with_stock_there(api):
    location = lid(1)
    found = await every_product(api, availableAt=[location])
    everything = await every_product(api)
    excluded = [key for key in everything if key not in set(found)]
    assert found and excluded, "location 1 should stock some products and not others"
    stock = """
    query ($ids: [ID!]!, $location: ID!) {
      nodes(ids: $ids) {
        id
        ... on Product { variants { inventory(locationIds: [$location]) { available } } }
      }
    }"""
    nodes = (await api.data(stock, {"ids": everything, "location": location}))["nodes"]
    in_stock = {
        node["id"]
        for node in nodes
        if any(level["available"] > 0 for v in node["variants"] for level in v["inventory"])
    }
    assert set(found) == in_stock
    assert found == [key for key in everything if key in in_stock]  # still in id order


async def test_available_at_several_locations_is_any_of_them(api):
    one = set(await every_product(api, availableAt=[lid(1)]))
    other = set(await every_product(api, availableAt=[lid(2)]))
    assert one != other
    assert set(await every_product(api, availableAt=[lid(1), lid(2)])) == one | other


# --- lookups -----------------------------------------------------------------------------------


async def test_product_by_handle_and_by_id_are_the_same_product(api):
    demo = DEMO.products[17]
    query = f"""query ($id: ID, $handle: String) {{
      product(id: $id, handle: $handle) {{ {PRODUCT_FIELDS} description }}
    }}"""
    by_handle = (await api.data(query, {"handle": demo["handle"]}))["product"]
    by_id = (await api.data(query, {"id": pid(demo["id"])}))["product"]
    assert by_handle == by_id
    assert by_id["id"] == pid(demo["id"])
    assert (by_id["handle"], by_id["title"], by_id["vendor"]) == (
        demo["handle"],
        demo["title"],
        demo["vendor"],
    )


async def test_node_resolves_each_type_with_inline_fragments(api):
    query = """query ($id: ID!) {
      node(id: $id) {
        __typename id
        ... on Product { handle }
        ... on ProductVariant { sku }
        ... on Location { name kind }
      }
    }"""
    product, variant, location = DEMO.products[3], DEMO.variants[5], DEMO.locations[2]
    assert (await api.data(query, {"id": pid(product["id"])}))["node"] == {
        "__typename": "Product",
        "id": pid(product["id"]),
        "handle": product["handle"],
    }
    assert (await api.data(query, {"id": vid(variant["id"])}))["node"] == {
        "__typename": "ProductVariant",
        "id": vid(variant["id"]),
        "sku": variant["sku"],
    }
    assert (await api.data(query, {"id": lid(location["id"])}))["node"] == {
        "__typename": "Location",
        "id": lid(location["id"]),
        "name": location["name"],
        "kind": location["kind"],
    }


async def test_node_of_a_missing_row_is_null(api):
    query = "query ($id: ID!) { node(id: $id) { id } }"
    for missing in (pid(99999), vid(99999), lid(99999)):
        assert (await api.data(query, {"id": missing}))["node"] is None


async def test_nodes_keep_the_order_given_and_null_the_missing(api):
    ids = [lid(3), pid(9), vid(2), pid(99999), pid(1), lid(99999), vid(2)]
    query = """query ($ids: [ID!]!) {
      nodes(ids: $ids) {
        __typename id
        ... on Product { title }
        ... on ProductVariant { sku }
        ... on Location { code }
      }
    }"""
    nodes = (await api.data(query, {"ids": ids}))["nodes"]
    assert len(nodes) == len(ids)
    assert [n and n["id"] for n in nodes] == [ids[0], ids[1], ids[2], None, ids[4], None, ids[6]]
    assert [n and n["__typename"] for n in nodes] == [
        "Location",
        "Product",
        "ProductVariant",
        None,
        "Product",
        None,
        "ProductVariant",
    ]
    titles = {p["id"]: p["title"] for p in DEMO.products}
    assert nodes[1]["title"] == titles[9]
    assert nodes[4]["title"] == titles[1]
    assert nodes[2]["sku"] == next(v["sku"] for v in DEMO.variants if v["id"] == 2)
    assert nodes[0]["code"] == DEMO.locations[2]["code"]


# --- money, variants, availability -------------------------------------------------------------


async def test_prices_are_usd_decimal_strings_with_cents(api):
    query = f"{{ products(first: 250) {{ nodes {{ {PRODUCT_FIELDS} }} }} }}"
    nodes = (await api.data(query))["products"]["nodes"]
    minor = {v["id"]: v for v in DEMO.variants}
    checked = 0
    for product in nodes:
        for variant in product["variants"]:
            price = variant["price"]
            assert price["currencyCode"] == "USD"
            assert isinstance(price["amount"], str)
            assert re.fullmatch(r"\d+\.\d{2}", price["amount"]), price
            demo = minor[key_of(variant["id"])]
            assert Decimal(price["amount"]) == Decimal(demo["price_minor"]) / 100
            checked += 1
    assert checked == len(DEMO.variants)


async def test_a_known_price_reads_exactly(api):
    variant = next(v for v in DEMO.variants if v["price_minor"] % 100 == 50)
    query = "query ($id: ID!) { node(id: $id) { ... on ProductVariant { price { amount } } } }"
    amount = (await api.data(query, {"id": vid(variant["id"])}))["node"]["price"]["amount"]
    assert amount == f"{variant['price_minor'] // 100}.50"


async def test_price_range_spans_the_variant_prices(api):
    query = f"{{ products(first: 250) {{ nodes {{ {PRODUCT_FIELDS} }} }} }}"
    spread = 0
    for product in (await api.data(query))["products"]["nodes"]:
        prices = [Decimal(v["price"]["amount"]) for v in product["variants"]]
        low = product["priceRange"]["minVariantPrice"]
        high = product["priceRange"]["maxVariantPrice"]
        assert low["currencyCode"] == high["currencyCode"] == "USD"
        assert Decimal(low["amount"]) == min(prices)
        assert Decimal(high["amount"]) == max(prices)
        assert Decimal(low["amount"]) <= Decimal(high["amount"])
        spread += Decimal(low["amount"]) < Decimal(high["amount"])
    assert spread > 0, "some product should have variants at different prices"


async def test_compare_at_price_is_above_the_price_when_present(api):
    query = f"{{ products(first: 250) {{ nodes {{ {PRODUCT_FIELDS} }} }} }}"
    variants = [v for p in (await api.data(query))["products"]["nodes"] for v in p["variants"]]
    on_sale = [v for v in variants if v["compareAtPrice"] is not None]
    assert on_sale and len(on_sale) < len(variants)
    expected = {v["id"] for v in DEMO.variants if v["compare_at_minor"] is not None}
    assert {key_of(v["id"]) for v in on_sale} == expected
    for variant in on_sale:
        assert variant["compareAtPrice"]["currencyCode"] == variant["price"]["currencyCode"]
        assert Decimal(variant["compareAtPrice"]["amount"]) > Decimal(variant["price"]["amount"])


async def test_variants_have_their_options_and_point_back_to_their_product(api):
    product = DEMO.products[10]
    demo_variants = [v for v in DEMO.variants if v["product_id"] == product["id"]]
    found = await product_details(api, product["id"])
    assert [v["id"] for v in found["variants"]] == [vid(v["id"]) for v in demo_variants]
    for variant, demo in zip(found["variants"], demo_variants, strict=True):
        assert variant["sku"] == demo["sku"]
        assert variant["title"] == demo["title"]
        assert variant["selectedOptions"] == demo["options"]
        assert variant["product"]["id"] == found["id"]
    query = """query ($id: ID!) {
      node(id: $id) { ... on ProductVariant { product { id handle variants { id } } } }
    }"""
    back = (await api.data(query, {"id": vid(demo_variants[-1]["id"])}))["node"]["product"]
    assert back["id"] == pid(product["id"])
    assert back["handle"] == product["handle"]
    assert vid(demo_variants[-1]["id"]) in [v["id"] for v in back["variants"]]


async def test_available_for_sale_matches_variant_stock(api):
    query = f"{{ products(first: 250) {{ nodes {{ {PRODUCT_FIELDS} }} }} }}"
    nodes = (await api.data(query))["products"]["nodes"]
    sold_out_variants = 0
    for product in nodes:
        quantities = [v["quantityAvailable"] for v in product["variants"]]
        sold_out_variants += quantities.count(0)
        assert product["availableForSale"] is any(q > 0 for q in quantities), product["id"]
    assert sold_out_variants > 0, "the demo has variants sold out everywhere"


async def test_a_product_sold_out_everywhere_is_not_available_for_sale(api):
    stock = defaultdict(int)
    for level in DEMO.inventory_levels:
        stock[level["variant_id"]] += level["on_hand"]
    # A product with a variant already sold out, so the rest is what the count takes away.
    product_id = next(v["product_id"] for v in DEMO.variants if stock[v["id"]] == 0)
    before = await product_details(api, product_id)
    assert before["availableForSale"] is True
    changes = [
        {
            "variantId": vid(level["variant_id"]),
            "locationId": lid(level["location_id"]),
            "onHand": 0,
        }
        for level in DEMO.inventory_levels
        if level["variant_id"] in {key_of(v["id"]) for v in before["variants"]}
    ]
    adjust = """mutation ($input: InventoryAdjustInput!) {
      inventoryAdjust(input: $input) { userErrors { code message } }
    }"""
    variables = {"input": {"reason": "CYCLE_COUNT", "changes": changes}}
    payload = (await api.data(adjust, variables, **api.as_integration()))["inventoryAdjust"]
    assert payload["userErrors"] == []
    after = await product_details(api, product_id)
    assert [v["quantityAvailable"] for v in after["variants"]] == [0] * len(after["variants"])
    assert after["availableForSale"] is False
    # One unit anywhere makes it sellable again.
    one = {**changes[-1], "onHand": 1}
    variables = {"input": {"reason": "RECEIPT", "changes": [one]}}
    assert (await api.data(adjust, variables, **api.as_integration()))["inventoryAdjust"]["userErrors"] == []
    assert (await product_details(api, product_id))["availableForSale"] is True
