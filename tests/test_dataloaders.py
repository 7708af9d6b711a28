"""Round trips of a listing do not grow with its page size: one SQL statement per level,
with no cache at all; with the entity cache, a warm listing reads only its page."""

import pytest

from schema.ids import to_global_id

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


async def test_a_warm_entity_cache_reads_only_the_page(api):
    api.gateway.response_cache = None  # measure the entity cache alone
    endpoint = next(r for r in api.app.routes if getattr(r, "path", "") == "/graphql").app
    endpoint.cache = None
    await api.data(LISTING, {"n": 50})
    api.store.trace = []
    await api.data(LISTING, {"n": 50})
    assert [s.split("FROM", 1)[1].split()[0] for s in api.store.trace] == ["products"]


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
    assert [s.split("FROM", 1)[1].split()[0] for s in api.store.trace] == ["products", "inventory_levels"]
    first = data["products"]["edges"][0]["node"]["variants"][0]["inventory"]
    assert first[1]["available"] >= 1
