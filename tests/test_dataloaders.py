"""Round trips of a listing do not grow with its page size: one SQL statement per level,
with no cache at all; with the entity cache, a warm listing reads only its page."""

import pytest

from schema.ids import to_global_id
from tests.helpers import gateway

LISTING = """
query ($n: Int!) {
  products(first: $n) {
    edges { node { title variants {
      sku price { amount } inventory { available location { name } } } } }
  }
}"""


@pytest.mark.parametrize("n", [5, 50])
async def test_listing_costs_one_statement_per_level(uncached_api, n):
    api = uncached_api
    api.store.trace = []
    data = await api.data(LISTING, {"n": n})
    assert len(data["products"]["edges"]) == n
    levels = [s.split("FROM", 1)[1].split()[0] for s in api.store.trace]
    # products, their variants, the variants' stock, the stock's locations: nothing per row
    assert levels == ["products", "variants", "inventory_levels", "locations"]


async def test_page_of_5_and_page_of_50_cost_the_same(uncached_api):
    counts = []
    for n in (5, 50, 50):
        before = uncached_api.store.statements
        await uncached_api.data(LISTING, {"n": n})
        counts.append(uncached_api.store.statements - before)
    assert counts == [4, 4, 4]


CANADIAN_LISTING = LISTING.replace("query ($n: Int!)", 'query ($n: Int!) @inContext(country: "CA")')


@pytest.mark.parametrize("n", [5, 50])
async def test_a_listing_in_context_adds_one_statement_per_price_table(uncached_api, n):
    api = uncached_api
    api.store.trace = []
    data = await api.data(CANADIAN_LISTING, {"n": n})
    prices = [v["price"] for e in data["products"]["edges"] for v in e["node"]["variants"]]
    assert len(data["products"]["edges"]) == n and prices
    # the markets and price lists (the context), then one read of every list's prices of the
    # page's variants, whatever their number
    assert sorted(_tables(api)) == sorted(
        ["markets", "price_lists", "products", "variants", "prices", "inventory_levels", "locations"]
    )


async def test_a_warm_entity_cache_prices_any_context_without_reading(api):
    api.gateway.response_cache = None
    endpoint = next(r for r in api.app.routes if getattr(r, "path", "") == "/graphql").app
    endpoint.cache = None
    await api.data(CANADIAN_LISTING, {"n": 50})
    api.store.trace = []
    await api.data(CANADIAN_LISTING, {"n": 50})
    # Rows of every list are kept per variant; the context picks among them per request.
    app_listing = CANADIAN_LISTING.replace('country: "CA"', "channel: MOBILE_APP")
    await api.data(app_listing, {"n": 50})
    assert api.store.trace == []


def _tables(api) -> list[str]:
    return [s.split("FROM", 1)[1].split()[0] for s in api.store.trace]


async def test_a_warm_entity_cache_reads_nothing(database_url):
    # Stock is kept 5 s by default: long enough between two requests, unless the machine is busy.
    async with gateway(database_url, entity_cache_stock_ttl_seconds=3600, response_cache=False) as api:
        await api.data(LISTING, {"n": 50})
        api.store.trace = []
        await api.data(LISTING, {"n": 50})
        assert api.store.trace == []
        # Another window of the listing is another page: read once, then kept.
        await api.data(LISTING, {"n": 49})
        await api.data(LISTING, {"n": 49})
        assert _tables(api) == ["products"]


async def test_pages_filtered_by_stock_are_never_kept(api):
    endpoint = next(r for r in api.app.routes if getattr(r, "path", "") == "/graphql").app
    endpoint.cache = None
    api.gateway.response_cache = None
    query = """query ($at: [ID!]) { products(first: 5, availableAt: $at) { edges { node { id } } } }"""
    at = [to_global_id("Location", 1)]
    await api.data(query, {"at": at})
    api.store.trace = []
    await api.data(query, {"at": at})
    assert "products" in _tables(api)


async def test_a_catalog_event_drops_the_kept_pages(api):
    endpoint = next(r for r in api.app.routes if getattr(r, "path", "") == "/graphql").app
    endpoint.cache = None
    api.gateway.response_cache = None
    await api.data(LISTING, {"n": 5})
    api.gateway.entity_cache.forget("catalog")
    api.store.trace = []
    await api.data(LISTING, {"n": 5})
    assert _tables(api)[0] == "products"


async def test_a_stock_event_refetches_only_that_variants_stock(api):
    endpoint = next(r for r in api.app.routes if getattr(r, "path", "") == "/graphql").app
    endpoint.cache = None
    await api.data(LISTING, {"n": 5})
    adjust = """mutation ($input: InventoryAdjustInput!) {
      inventoryAdjust(input: $input) { userErrors { code } } }"""
    change = {
        "variantId": to_global_id("ProductVariant", 1),
        "locationId": to_global_id("Location", 2),
        "delta": 1,
    }
    await api.data(adjust, {"input": {"reason": "RECEIPT", "changes": [change]}}, **api.as_integration())
    api.store.trace = []
    data = await api.data(LISTING, {"n": 5})
    assert _tables(api) == ["inventory_levels"]
    first = data["products"]["edges"][0]["node"]["variants"][0]["inventory"]
    assert first[1]["available"] >= 1


CART_QUERY = """
query ($id: ID!) {
  cart(id: $id) {
    subtotal { amount } totalQuantity
    lines {
      quantity status available held unitPrice { amount } total { amount }
      variant { sku product { title } }
      fulfillment { mode location { name } }
      alternatives { location { name } available }
    }
  }
}"""

ORDER_QUERY = """
query ($id: ID!) {
  order(id: $id) {
    number status total { amount }
    lines { sku quantity returnedQuantity variant { sku product { title } } fulfillment { status } }
    fulfillments { status location { name } lines { sku } }
    statusHistory { status fulfillment { status } }
    payments { amount { amount } }
    returns { id }
  }
}"""


async def _cart_with(api, n: int) -> str:
    from tests.commerce import KENT, RENO, SEATTLE, create_cart, line, set_stock

    # Mixed fulfillments: each line reads its variant, product, stock and locations.
    for v in range(1, n + 1):
        await set_stock(api, v, SEATTLE if v % 2 else RENO, 5)
        await set_stock(api, v, KENT, 0)
    lines = [line(v, 1, "PICKUP", SEATTLE) if v % 2 else line(v) for v in range(1, n + 1)]
    return (await create_cart(api, *lines, lean=True))["id"]


async def test_a_carts_statements_do_not_grow_with_its_lines(uncached_api):
    api = uncached_api
    counts = []
    for n in (2, 10):
        cart_id = await _cart_with(api, n)
        api.store.trace = []
        data = await api.data(CART_QUERY, {"id": cart_id})
        assert len(data["cart"]["lines"]) == n
        counts.append(len(api.store.trace))
    # the cart, its lines (with holds), the price lists (none applies to a WEB cart in USD, so
    # no list's prices are read), the offers (none runs), variants, products, stock, locations
    assert counts == [8, 8]


async def test_an_orders_statements_do_not_grow_with_its_lines(uncached_api):
    from tests.commerce import checkout

    api = uncached_api
    counts = []
    for n in (2, 10):
        order = (await checkout(api, await _cart_with(api, n), lean=True))["order"]
        api.store.trace = []
        data = await api.data(ORDER_QUERY, {"id": order["id"]}, **api.as_order_sync())
        assert len(data["order"]["lines"]) == n
        counts.append(len(api.store.trace))
    # the order, its fulfillments, lines, payments, returns, history; locations, variants,
    # products (return lines only when there are returns)
    assert counts == [9, 9]
