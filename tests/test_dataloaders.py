"""Round trips of a listing do not grow with its page size: one SQL statement per level."""

import pytest

LISTING = """
query ($n: Int!) {
  products(first: $n) {
    edges { node { title variants {
      sku price { amount } inventory { available location { name } } } } }
  }
}"""


@pytest.mark.parametrize("n", [5, 50])
async def test_listing_costs_one_statement_per_level(api, n):
    api.store.trace = []
    data = await api.data(LISTING, {"n": n})
    assert len(data["products"]["edges"]) == n
    levels = [s.split("FROM", 1)[1].split()[0] for s in api.store.trace]
    # products, their variants, the variants' stock, the stock's locations: nothing per row
    assert levels == ["products", "variants", "inventory_levels", "locations"]


async def test_page_of_5_and_page_of_50_cost_the_same(api):
    counts = []
    for n in (5, 50):
        before = api.store.statements
        await api.data(LISTING, {"n": n})
        counts.append(api.store.statements - before)
    assert counts[0] == counts[1] == 4
