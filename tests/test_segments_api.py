"""Segments through the API: rules over the unified profile (tier, 12-month spend, last
purchase, channels used, categories bought, preferred store, consent) evaluated in SQL on
SQLite and PostgreSQL; their members listed for marketing, page by page; a member's own
segments on `me`; who may do what."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import pytest

from tests.commerce import (
    ERRORS,
    SEATTLE,
    STORE_SALE,
    checkout,
    create_cart,
    gid,
    line,
    location_id,
    set_stock,
    variant_id,
)
from tests.conftest import INTEGRATIONS, STAFF_TOKENS, Api
from tests.helpers import PARTNER_KEY, PARTNERS, bearer, gateway

RULES = ["input", "rules"]
MARKETER = {
    "token": "test-marketer",
    "subject": "staff:marketing",
    "location_ids": [],
    "scopes": ["marketing"],
}
TOOL_TOKEN = "test-marketing-tool"
TOOL = {"sha256": hashlib.sha256(TOOL_TOKEN.encode()).hexdigest(), "scopes": ["marketing"]}

CREATE = f"""
mutation ($input: SegmentInput!) {{
  segmentCreate(input: $input) {{
    segment {{ id code name rules {{ tiers minSpend channelsUsed consentChannel }} }} {ERRORS}
  }}
}}"""
UPDATE = f"""
mutation ($id: ID!, $input: SegmentInput!) {{
  segmentUpdate(id: $id, input: $input) {{ segment {{ id code }} {ERRORS} }}
}}"""
DELETE = f"mutation ($id: ID!) {{ segmentDelete(id: $id) {{ deletedSegmentId {ERRORS} }} }}"
LIST = """query ($first: Int, $after: String) {
  segments(first: $first, after: $after) { nodes { code } pageInfo { hasNextPage endCursor } } }"""
MEMBERS = """
query ($id: ID!, $first: Int, $after: String) {
  node(id: $id) { ... on Segment { code members(first: $first, after: $after) {
    edges { cursor node { id email } } pageInfo { hasNextPage endCursor } } } }
}"""
CONSENT = (
    "mutation { memberConsentsUpdate(consents: [{channel: EMAIL, granted: %s}]) { userErrors { code } } }"
)
MY_SEGMENTS = "{ me { segments { code name } } }"
CATEGORY = "query ($id: ID!) { node(id: $id) { ... on ProductVariant { product { category } } } }"


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    # Any purchase makes a member SILVER: the tiers are the loyalty program's.
    async with gateway(
        database_url, staff_tokens=[*STAFF_TOKENS, MARKETER],
        integrations={**INTEGRATIONS, "marketing": TOOL},
        partner_keys=PARTNERS, loyalty_tiers={"SILVER": 1},
    ) as api:  # fmt: skip
        yield api


def as_marketer() -> dict[str, str]:
    return bearer(MARKETER["token"])


async def create(api: Api, code: str, **rules: object) -> str:
    payload = await api.data(
        CREATE, {"input": {"code": code, "name": code.title(), "rules": rules}}, **as_marketer()
    )
    assert payload["segmentCreate"]["userErrors"] == [], payload
    return payload["segmentCreate"]["segment"]["id"]


async def members_of(api: Api, segment: str, **headers: str) -> list[str]:
    body = await api.data(MEMBERS, {"id": segment, "first": 50}, **(headers or as_marketer()))
    return [e["node"]["id"] for e in body["node"]["members"]["edges"]]


async def shop(api: Api) -> str:
    """m1 buys at the Seattle till (SILVER, STORE), m2 on the web (no points until it is
    completed), m2 consents to email; m1 prefers store 1 (demo data). The category m1 bought."""
    await set_stock(api, 1, SEATTLE, 5)
    sale = {"input": {"locationId": location_id(SEATTLE), "idempotencyKey": "till-1",
                      "memberId": gid("Member", "m1"),
                      "lines": [{"variantId": variant_id(1), "quantity": 1}]}}  # fmt: skip
    assert (await api.data(STORE_SALE, sale, **api.as_staff(SEATTLE)))["storeSaleRecord"]["userErrors"] == []
    cart = await create_cart(api, line(20), **api.as_member("m2"))
    assert (await checkout(api, cart["id"], **api.as_member("m2")))["userErrors"] == []
    await api.data(CONSENT % "true", **api.as_member("m2"))
    body = await api.data(CATEGORY, {"id": variant_id(1)})
    return body["node"]["product"]["category"]


async def test_segments_are_rules_over_the_unified_profile(api: Api):
    category = await shop(api)
    m1, m2, m3 = (gid("Member", m) for m in ("m1", "m2", "m3"))
    silver_in_store = await create(api, "SILVER_STORE", tiers=["SILVER"], channelsUsed=["STORE"])
    web_recent = await create(api, "WEB_RECENT", channelsUsed=["WEB"], purchasedWithinDays=7)
    email_ok = await create(api, "EMAIL_OK", consentChannel="EMAIL")
    base = await create(api, "BASE_TIER", tiers=["MEMBER"])
    bought = await create(api, "BOUGHT_CATEGORY", categoriesBought=[category])
    local = await create(api, "STORE_1", preferredStoreIds=[location_id(1)])
    spenders = await create(api, "SPENDERS", minSpend="0.01")
    lapsed = await create(api, "LAPSED", lapsedDays=30)
    assert await members_of(api, silver_in_store) == [m1]
    assert await members_of(api, web_recent) == [m2]
    assert await members_of(api, email_ok) == [m2]
    assert await members_of(api, base) == [m2, m3]
    assert await members_of(api, bought) == [m1]
    assert await members_of(api, local) == [m1]
    assert await members_of(api, spenders) == [m1]
    assert await members_of(api, lapsed) == []
    # A member sees the segments they are in (not the rules), and only their own.
    mine = (await api.data(MY_SEGMENTS, **api.as_member("m1")))["me"]["segments"]
    assert [s["code"] for s in mine] == ["SILVER_STORE", "BOUGHT_CATEGORY", "STORE_1", "SPENDERS"]
    theirs = (await api.data(MY_SEGMENTS, **api.as_member("m2")))["me"]["segments"]
    assert [s["code"] for s in theirs] == ["WEB_RECENT", "EMAIL_OK", "BASE_TIER"]
    # Evaluated when asked, by the gateway's clock: 40 days on, nobody bought recently.
    api.advance(days=40)
    assert await members_of(api, web_recent) == []
    assert await members_of(api, lapsed) == [m1, m2]
    # Withdrawn consent leaves the segment.
    await api.data(CONSENT % "false", **api.as_member("m2"))
    assert await members_of(api, email_ok) == []


async def test_segment_members_come_in_pages(api: Api):
    base = await create(api, "EVERYONE")
    first = (await api.data(MEMBERS, {"id": base, "first": 2}, **as_marketer()))["node"]["members"]
    assert [e["node"]["id"] for e in first["edges"]] == [gid("Member", "m1"), gid("Member", "m2")]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = await api.data(
        MEMBERS, {"id": base, "first": 2, "after": first["pageInfo"]["endCursor"]}, **as_marketer()
    )
    page = rest["node"]["members"]
    assert [e["node"]["id"] for e in page["edges"]] == [gid("Member", "m3")]
    assert page["pageInfo"]["hasNextPage"] is False
    too_many = await api.gql(MEMBERS, {"id": base, "first": 251}, **as_marketer())
    assert [e["extensions"]["code"] for e in too_many["errors"]] == ["BAD_USER_INPUT"]
    listed = (await api.data(LIST, {"first": 10}, **as_marketer()))["segments"]
    assert [s["code"] for s in listed["nodes"]] == ["EVERYONE"]


async def test_segment_changes_are_checked(api: Api):
    segment = await create(api, "GOLD", tiers=["SILVER"])
    cases = [
        ({"code": "bad code!", "name": "x", "rules": {}}, [(["input", "code"], "INVALID")]),
        ({"code": "X", "name": "x", "rules": {"tiers": ["PLATINUM"]}}, [([*RULES, "tiers"], "INVALID")]),
        ({"code": "X", "name": "x", "rules": {"lapsedDays": -1}}, [([*RULES, "lapsedDays"], "INVALID")]),
        ({"code": "GOLD", "name": "again", "rules": {}}, [(["input", "code"], "SEGMENT_CODE_TAKEN")]),
        ({"code": "X", "name": "x", "rules": {"preferredStoreIds": [location_id(9999)]}},
         [(["input", "rules", "preferredStoreIds", "0"], "LOCATION_NOT_FOUND")]),
    ]  # fmt: skip
    for given, expected in cases:
        payload = (await api.data(CREATE, {"input": given}, **as_marketer()))["segmentCreate"]
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == expected, given
        assert payload["segment"] is None
    renamed = {"id": segment, "input": {"code": "GOLD_ALL", "name": "Gold", "rules": {}}}
    assert (await api.data(UPDATE, renamed, **as_marketer()))["segmentUpdate"]["segment"][
        "code"
    ] == "GOLD_ALL"
    gone = {"id": gid("Segment", 9999), "input": renamed["input"]}
    errors = (await api.data(UPDATE, gone, **as_marketer()))["segmentUpdate"]["userErrors"]
    assert [e["code"] for e in errors] == ["SEGMENT_NOT_FOUND"]
    assert (await api.data(DELETE, {"id": segment}, **as_marketer()))["segmentDelete"][
        "deletedSegmentId"
    ] == segment
    again = (await api.data(DELETE, {"id": segment}, **as_marketer()))["segmentDelete"]
    assert [e["code"] for e in again["userErrors"]] == ["SEGMENT_NOT_FOUND"]


async def test_only_marketing_sees_and_manages_segments(api: Api):
    segment = await create(api, "ALL")
    tool = bearer(TOOL_TOKEN)
    assert (await api.data(LIST, **tool))["segments"]["nodes"] == [{"code": "ALL"}]
    assert len(await members_of(api, segment, **tool)) == 3
    create_doc = {"input": {"code": "Y", "name": "y", "rules": {}}}
    for document, variables in (
        (LIST, None),
        (CREATE, create_doc),
        (DELETE, {"id": segment}),
        (MEMBERS, {"id": segment}),
    ):
        body = await api.gql(document, variables)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"], document
        for caller in (
            api.as_member("m1"),
            api.as_staff(SEATTLE),
            bearer(PARTNER_KEY),
            api.as_integration(),
            api.as_order_sync(),
        ):
            body = await api.gql(document, variables, **caller)
            assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], (document, caller)
    # A member's segments are theirs alone.
    other = await api.gql("query ($id: ID!) { node(id: $id) { ... on Member { segments { code } } } }",
                          {"id": gid("Member", "m1")}, **api.as_member("m2"))  # fmt: skip
    assert [e["extensions"]["code"] for e in other["errors"]] == ["FORBIDDEN"]
    assert (await api.data(MY_SEGMENTS))["me"] is None
