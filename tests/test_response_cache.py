"""Public answers are served from the response cache until an event makes them stale."""

import pytest

from schema.ids import to_global_id

TITLES = "{ products(first: 5) { nodes { title } } }"
VARIANT, STORE = to_global_id("ProductVariant", 1), to_global_id("Location", 1)
STOCK = f'{{ node(id: "{VARIANT}") {{ ... on ProductVariant {{ quantityAvailable }} }} }}'
ADJUST = f"""
mutation {{ inventoryAdjust(input: {{reason: RECEIPT, changes: [
  {{variantId: "{VARIANT}", locationId: "{STORE}", delta: 5}}]}}) {{ userErrors {{ code }} }} }}
"""


async def statements_for(api, query, **headers):
    before = api.store.statements
    response = await api.post(query, **headers)
    assert response.status_code == 200
    return api.store.statements - before, response


async def test_a_repeated_public_query_is_answered_without_the_database(api):
    first, response = await statements_for(api, TITLES)
    again, cached = await statements_for(api, TITLES)
    assert first > 0 and again == 0
    assert cached.content == response.content
    assert cached.headers["cache-control"].startswith("public, max-age=")
    assert cached.headers["etag"] == response.headers["etag"]


async def test_a_stock_event_makes_stock_answers_stale_but_not_catalog_ones(api):
    await api.post(TITLES)
    before = (await api.post(STOCK)).json()["data"]["node"]["quantityAvailable"]
    body = await api.gql(ADJUST, **api.as_integration())
    assert body["data"]["inventoryAdjust"]["userErrors"] == []
    reads, after = await statements_for(api, STOCK)
    assert reads > 0
    assert after.json()["data"]["node"]["quantityAvailable"] == before + 5
    titles_reads, _ = await statements_for(api, TITLES)
    assert titles_reads == 0  # titles do not change with stock


async def test_an_etag_the_client_has_gets_304(api):
    response = await api.post(TITLES)
    etag = response.headers["etag"]
    again = await api.client.post("/graphql", json={"query": TITLES}, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""


@pytest.mark.parametrize(
    "query",
    [
        '{ product(handle: "no-such-product") { id } }',  # an error
        "{ __schema { queryType { name } } }",  # introspection runs on the standard path
    ],
)
async def test_errors_and_uncompiled_answers_are_never_cached(api, query):
    await api.post(query)
    _, response = await statements_for(api, query)
    assert "etag" not in response.headers
    assert api.gateway.response_cache.hits == 0


async def misses_for(api, query, **headers):
    # The entity cache may answer a miss without SQL too: count the response cache's own misses.
    cache = api.gateway.response_cache
    before = (cache.hits, cache.misses)
    response = await api.post(query, **headers)
    assert response.status_code == 200
    return cache.misses - before[1], cache.hits - before[0]


async def test_callers_of_different_kinds_do_not_share_entries(api):
    await api.post(TITLES)
    assert await misses_for(api, TITLES) == (0, 1)
    assert await misses_for(api, TITLES, **api.as_integration()) == (1, 0)


async def test_entries_expire(api, monkeypatch):
    import gateway.caching.response_cache as module

    await api.post(TITLES)
    now = module.time.monotonic()
    monkeypatch.setattr(module.time, "monotonic", lambda: now + api.gateway.response_cache.ttl + 1)
    assert await misses_for(api, TITLES) == (1, 0)


NODE = "query ($id: ID!) { node(id: $id) { id ... on Product { title } ... on Cart { id } } }"


async def test_a_node_is_cached_when_it_is_public_and_never_when_it_is_a_cart(api):
    from tests.commerce import create_cart, line

    product = {"id": to_global_id("Product", 3)}
    await api.post(NODE, product)
    reads, _ = await statements_for_variables(api, NODE, product)
    assert reads == 0
    cart = {"id": (await create_cart(api, line(1)))["id"]}
    await api.post(NODE, cart)
    reads, response = await statements_for_variables(api, NODE, cart)
    assert reads > 0 and "etag" not in response.headers
    assert response.json()["data"]["node"]["id"] == cart["id"]


async def statements_for_variables(api, query, variables):
    before = api.store.statements
    response = await api.post(query, variables)
    assert response.status_code == 200
    return api.store.statements - before, response
