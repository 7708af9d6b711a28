"""What the generated-input tests (tests/test_fuzz_api.py) found, each kept as a regression test
through the API, on SQLite and PostgreSQL: every one was an INTERNAL error or a 500 before."""

from __future__ import annotations

import pytest

from tests.commerce import ADJUST, ERRORS, LEVEL, location_id, variant_id
from tests.conftest import Api

PRODUCT = "query ($handle: String) { product(handle: $handle) { id } }"
SEARCH = "query ($q: String) { products(first: 2, query: $q, category: $q) { nodes { id } } }"
UPDATE = f"""
mutation ($input: MemberUpdateInput!) {{
  memberUpdate(input: $input) {{ member {{ firstName lastName phone addresses {{ city }} }} {ERRORS} }}
}}"""
ME = "{ me { firstName lastName phone addresses { city } } }"


def codes(body: dict) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


# --- 1. NUL characters: PostgreSQL refused the statement (INTERNAL), SQLite matched oddly ---


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (PRODUCT, {"handle": "trail\x00"}),
        (SEARCH, {"q": "\x00"}),
        ('{ product(handle: "trail\\u0000") { id } }', None),
        ('query ($h: String = "\\u0000") { product(handle: $h) { id } }', None),
    ],
    ids=["variable", "search-variable", "literal", "default-value"],
)
async def test_text_with_a_nul_character_is_bad_user_input(api: Api, query: str, variables: dict | None):
    body = await api.gql(query, variables)
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert "NUL" in body["errors"][0]["message"]
    assert "data" not in body  # refused before anything ran


async def test_a_nul_in_a_mutation_changes_nothing(api: Api):
    before = await api.data(ME, **api.as_member("m1"))
    address = {"address1": "1 Pine St", "city": "Seattle\x00", "country": "USA", "countryCode": "US"}
    variables = {"input": {"firstName": "An\x00a", "addresses": [address]}}
    body = await api.gql(UPDATE, variables, **api.as_member("m1"))
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "input"
    assert await api.data(ME, **api.as_member("m1")) == before


# --- 2. Lone surrogates: json.loads let them into arguments (INTERNAL) and error messages (500) ---


@pytest.mark.parametrize(
    "body",
    [
        b'{"query": "query ($h: String) { product(handle: $h) { id } }", "variables": {"h": "\\ud800"}}',
        b'{"query": "{ me { id } }", "operationName": "\\udfff"}',
        b'{"query": "mutation ($i: CartCreateInput!) { cartCreate(input: $i) { cart { id } } }",'
        b' "variables": {"i": {"\\ud800": 1}}}',
    ],
    ids=["argument", "operation-name", "input-field-name"],
)
async def test_a_lone_surrogate_is_refused_as_a_request_error(api: Api, body: bytes):
    response = await api.client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["BAD_USER_INPUT"]


# --- 3. Profile fields longer than their columns: PostgreSQL refused the update (INTERNAL) ---


async def test_profile_fields_longer_than_kept_are_user_errors(api: Api):
    before = await api.data(ME, **api.as_member("m1"))
    address = {"address1": "1 Pine St", "city": "S" * 121, "country": "United States", "countryCode": "USA"}
    variables = {"input": {"firstName": "A" * 121, "phone": "1" * 41, "addresses": [address]}}
    payload = (await api.data(UPDATE, variables, **api.as_member("m1")))["memberUpdate"]
    assert payload["member"] is None
    assert {tuple(e["field"]) for e in payload["userErrors"]} == {
        ("input", "firstName"), ("input", "phone"),
        ("input", "addresses", "0", "city"), ("input", "addresses", "0", "countryCode"),
    }  # fmt: skip
    assert {e["code"] for e in payload["userErrors"]} == {"INVALID"}
    assert await api.data(ME, **api.as_member("m1")) == before
    fits = {"input": {"firstName": "A" * 120, "phone": "1" * 40}}
    payload = (await api.data(UPDATE, fits, **api.as_member("m1")))["memberUpdate"]
    assert payload["userErrors"] == []
    assert (payload["member"]["firstName"], payload["member"]["phone"]) == ("A" * 120, "1" * 40)


# --- 4. Stock past a 32-bit integer: PostgreSQL refused the update (INTERNAL) ---


async def test_stock_beyond_what_is_kept_is_a_user_error(api: Api):
    where = {"variantId": variant_id(1), "locationId": location_id(1)}
    count = {"input": {"reason": "CYCLE_COUNT", "changes": [{**where, "onHand": 2**31 - 1}]}}
    payload = (await api.data(ADJUST, count, **api.as_integration()))["inventoryAdjust"]
    assert payload["userErrors"] == []
    receipt = {"input": {"reason": "RECEIPT", "changes": [{**where, "delta": 5}, {**where, "delta": 1}]}}
    payload = (await api.data(ADJUST, receipt, **api.as_integration()))["inventoryAdjust"]
    assert [(e["code"], e["message"]) for e in payload["userErrors"]] == [
        ("INVALID", f"on hand would be {2**31 + 4}; at most {2**31 - 1} is kept")
    ]
    level = await api.data(LEVEL, {"variant": variant_id(1), "location": location_id(1)})
    assert level["node"]["inventory"][0]["onHand"] == 2**31 - 1
