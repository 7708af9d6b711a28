"""Operation limits and cost: refused before anything runs, on both paths, and cheaply."""

import pytest
import pytest_asyncio

from tests.conftest import Api
from tests.helpers import gateway

LISTING = "query ($n: Int) { products(first: $n) { nodes { title variants { sku } } } }"


def alias_bomb(count: int) -> str:
    aliases = " ".join(f"a{i}: variants {{ sku }}" for i in range(count))
    return f"{{ products(first: 250) {{ nodes {{ {aliases} }} }} }}"


def fragment_fan_out(levels: int) -> str:
    """Each fragment spreads the next twice: 2**levels fields once expanded."""
    fragments = " ".join(
        f"fragment F{i} on Product {{ variants {{ product {{ ...F{i + 1} ...F{i + 1} }} }} }}"
        for i in range(levels)
    )
    return (
        f"{{ products(first: 1) {{ nodes {{ ...F0 }} }} }} {fragments} fragment F{levels} on Product {{ id }}"
    )


def nested(levels: int) -> str:
    inner = "id"
    for _ in range(levels):
        inner = f"variants {{ product {{ {inner} }} }}"
    return f"{{ products(first: 1) {{ nodes {{ {inner} }} }} }}"


async def refused_without_the_database(api: Api, body: dict, status: int = 200) -> dict:
    before = api.store.statements
    response = await api.client.post("/graphql", json=body)
    assert response.status_code == status, response.text
    assert api.store.statements == before, "a refused document must not reach the database"
    errors = response.json()["errors"]
    assert {e["extensions"]["code"] for e in errors} == {"BAD_USER_INPUT"}, errors
    assert "data" not in response.json()  # a request error: nothing ran
    return response.json()


async def test_an_alias_bomb_is_refused_without_the_database(api):
    body = await refused_without_the_database(api, {"query": alias_bomb(400)})
    messages = " ".join(e["message"] for e in body["errors"])
    assert "400 aliases; the limit is 50" in messages


async def test_a_fragment_fan_out_and_a_fragment_cycle_are_refused_without_the_database(api):
    body = await refused_without_the_database(api, {"query": fragment_fan_out(60)})
    assert any("would cost" in e["message"] for e in body["errors"])
    cycle = (
        "{ products(first: 1) { nodes { ...A } } }"
        " fragment A on Product { variants { product { ...B } } } fragment B on Product { ...A }"
    )
    body = await refused_without_the_database(api, {"query": cycle})
    assert "within itself" in body["errors"][0]["message"]


async def test_a_deep_query_is_refused_without_the_database(api):
    body = await refused_without_the_database(api, {"query": nested(10)})
    assert "levels deep; the limit is 12" in body["errors"][0]["message"]
    body = await refused_without_the_database(api, {"query": "{" + "a {" * 5000 + "}" * 5001})
    assert body["errors"][0]["message"]


async def test_a_one_megabyte_query_is_refused_before_it_is_read_whole(api):
    query = "{ products(first: 1) { nodes { id } } }" + " " * (1 << 20)
    before = api.store.statements
    response = await api.client.post("/graphql", json={"query": query})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert api.store.statements == before


async def test_documents_over_the_token_or_length_limit_are_refused(api):
    tokens = "{ products(first: 1) { nodes { " + "id " * 4100 + "} } }"
    body = await refused_without_the_database(api, {"query": tokens})
    assert "tokens" in body["errors"][0]["message"]
    long = "{ products(first: 1) { nodes { id } } }" + "#" * 60_000
    body = await refused_without_the_database(api, {"query": long})
    assert "characters long" in body["errors"][0]["message"]


async def test_accepted_operations_report_their_cost_on_both_paths(api):
    compiled = (await api.post(LISTING, {"n": 20})).json()
    assert compiled["extensions"]["cost"] == {"requested": 1 + 20 * (1 + 10), "maximum": 100_000}
    standard = (
        await api.client.get("/graphql", params={"query": "{ products(first: 4) { nodes { id } } }"})
    ).json()
    assert standard["extensions"]["cost"] == {"requested": 1 + 4, "maximum": 100_000}


async def test_the_cost_follows_the_variables_and_refuses_before_running(api):
    api.gateway.protections.max_cost = 1000
    assert "errors" not in (await api.post(LISTING, {"n": 50})).json()  # 1 + 50 * 11 = 551
    before = api.store.statements
    body = (await api.post(LISTING, {"n": 200})).json()  # 1 + 200 * 11 = 2201
    assert api.store.statements == before
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["cost"] == {"requested": 2201, "maximum": 1000}
    get = await api.client.get("/graphql", params={"query": LISTING, "variables": '{"n": 200}'})
    assert get.json()["errors"][0]["extensions"]["cost"]["requested"] == 2201


@pytest_asyncio.fixture
async def tight(database_url):
    async with gateway(database_url, max_depth=4, max_aliases=2, max_root_fields=2, max_cost=100) as api:
        yield api


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("{ products(first: 1) { nodes { variants { product { variants { sku } } } } } }", "levels deep"),
        ("{ a: categories b: categories c: categories }", "aliases"),
        (
            "{ categories locations(first: 1) { nodes { id } } products(first: 1) { nodes { id } } }",
            "root fields",
        ),
        ("{ products(first: 101) { nodes { id } } }", "would cost 102"),
    ],
)
async def test_each_limit_is_a_setting(tight, query, fragment):
    for request in (tight.client.post("/graphql", json={"query": query}),
                    tight.client.get("/graphql", params={"query": query})):  # fmt: skip
        body = (await request).json()
        assert fragment in body["errors"][0]["message"], body
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
