"""Recommendations from the unified history: bought together across every channel, lifted by a
member's categories, never what the member has, deterministic; a till sale changes the web's."""

from __future__ import annotations

import base64
from typing import Any

from tests.commerce import SEATTLE, STORE_SALE, gid, location_id, set_stock
from tests.conftest import Api

PRODUCTS = "{ products(first: 4) { nodes { id category variants { id } } } }"
FOR_PRODUCT = "query ($id: ID!) { node(id: $id) { ... on Product { recommendations(first: 3) { id } } } }"
FOR_ME = "{ me { recommendations(first: 4) { id } } }"


async def four_products(api: Api) -> list[tuple[str, str]]:
    nodes = (await api.data(PRODUCTS))["products"]["nodes"]
    return [(p["id"], p["variants"][0]["id"]) for p in nodes]


async def till_sale(api: Api, key: str, variants: list[str], member: str | None = None) -> None:
    sale: dict[str, Any] = {"locationId": location_id(SEATTLE), "idempotencyKey": key,
                            "lines": [{"variantId": v, "quantity": 1} for v in variants]}  # fmt: skip
    if member:
        sale["memberId"] = gid("Member", member)
    payload = (await api.data(STORE_SALE, {"input": sale}, **api.as_staff(SEATTLE)))["storeSaleRecord"]
    assert payload["userErrors"] == [], payload["userErrors"]


async def ids(api: Api, document: str, variables: dict | None = None, **headers: str) -> list[str]:
    data = await api.data(document, variables, **headers)
    found = data["node"] if "node" in data else data["me"]
    return [p["id"] for p in found["recommendations"]]


async def test_a_members_store_purchase_changes_what_the_web_recommends(api: Api):
    (a, va), (b, vb), (c, vc), (d, vd) = await four_products(api)
    for variant in (va, vb, vc, vd):
        await set_stock(api, _key(variant), SEATTLE, 50)
    for n in range(3):
        await till_sale(api, f"ab-{n}", [va, vb])
    for n in range(2):
        await till_sale(api, f"cd-{n}", [vc, vd])

    assert await ids(api, FOR_PRODUCT, {"id": a}) == [b]
    assert await ids(api, FOR_PRODUCT, {"id": c}) == [d]
    before = await ids(api, FOR_ME, **api.as_member("m2"))  # no history yet: best sellers
    assert before[:2] == sorted([a, b], key=_key)
    assert before == await ids(api, FOR_ME, **api.as_member("m2"))  # same data, same answer

    await till_sale(api, "m2-at-the-till", [vc], member="m2")
    after = await ids(api, FOR_ME, **api.as_member("m2"))
    assert after[0] == d  # bought with what they just bought in the store
    assert c not in after  # never what they already have
    assert after != before
    # Personal: another member's list did not move, and nobody reads m2's.
    assert await ids(api, FOR_ME, **api.as_member("m1")) == before
    denied = await api.gql(
        "query ($id: ID!) { node(id: $id) { ... on Member { recommendations { id } } } }",
        {"id": gid("Member", "m2")}, **api.as_member("m1"),
    )  # fmt: skip
    assert [e["extensions"]["code"] for e in denied["errors"]] == ["FORBIDDEN"]


def _key(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().split(":")[1])


async def test_a_page_of_recommendations_costs_the_same_round_trips_as_one(uncached_api: Api):
    api = uncached_api
    products = await four_products(api)
    for variant in (v for _, v in products):
        await set_stock(api, _key(variant), SEATTLE, 50)
    await till_sale(api, "all-four", [v for _, v in products])
    document = "query ($n: Int!) { products(first: $n) { nodes { id recommendations(first: 2) { id } } } }"
    page = await api.data(document, {"n": 4})
    assert all(len(p["recommendations"]) == 2 for p in page["products"]["nodes"])
    counts = []
    for n in (1, 10):
        before = api.store.statements
        await api.data(document, {"n": n})
        counts.append(api.store.statements - before)
    assert counts[1] <= counts[0]  # ten products' lists take no more queries than one's
