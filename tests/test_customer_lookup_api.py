"""Customer lookup: staff with the support role find a member by email, phone or loyalty card
number and see their profile, points and tier; each member found is audited; who may search."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.commerce import BELLEVUE, SEATTLE, checkout, create_cart, gid, line, set_stock
from tests.conftest import Api
from tests.helpers import PARTNER_KEY, PARTNERS, gateway

M1 = gid("Member", "m1")
SEARCH = """
query ($query: String!, $first: Int) {
  supportMemberSearch(query: $query, first: $first) {
    id firstName lastName email phone loyalty { points tier }
  }
}"""
NAMES = "query ($query: String!) { supportMemberSearch(query: $query) { id firstName } }"
PHONE = """
mutation ($phone: String!) { memberUpdate(input: {phone: $phone}) { userErrors { code } } }"""
AUDIT = "query ($memberId: ID) { auditLog(memberId: $memberId) { nodes { actor memberId action fields } } }"
PICKED_UP = """
mutation ($id: ID!, $status: FulfillmentStatus!) {
  fulfillmentUpdateStatus(fulfillmentId: $id, status: $status) { userErrors { code } }
}"""


async def _give_phone(api: Api, member: str, phone: str) -> None:
    payload = (await api.data(PHONE, {"phone": phone}, **api.as_member(member)))["memberUpdate"]
    assert payload["userErrors"] == []


async def _found(api: Api, query: str) -> list[str]:
    found = (await api.data(NAMES, {"query": query}, **api.as_role("support")))["supportMemberSearch"]
    return [m["id"] for m in found]


async def test_support_finds_a_member_by_email_phone_or_card_number(api: Api):
    await _give_phone(api, "m1", "+1 (206) 555-0142")
    assert await _found(api, "ANA@example.com ") == [M1]  # any case, the whole address
    assert await _found(api, "+1 206 555 0142") == [M1]
    assert await _found(api, "206-555-0142") == [M1]  # the national number finds the international one
    assert await _found(api, "m1") == [M1]  # the member number on the loyalty card
    assert await _found(api, M1) == [M1]  # the member's id (the app's card)
    # Exact matches only: no prefix of an address, no few digits of a number.
    for partial in ("ana@", "example.com", "0142", "m", gid("Order", 1), "nobody@example.com"):
        assert await _found(api, partial) == [], partial


async def test_points_and_tier_come_with_the_member(api: Api):
    api.start_clock_at(datetime.fromisoformat("2031-05-04T09:00:00+00:00"))
    await set_stock(api, 1, SEATTLE, 5)
    cart = await create_cart(api, line(1, 1, "PICKUP", SEATTLE), **api.as_member("m1"))
    order = (await checkout(api, cart["id"], key="lookup-1", **api.as_member("m1")))["order"]
    for status in ("READY_FOR_PICKUP", "PICKED_UP"):
        moved = await api.data(
            PICKED_UP, {"id": order["fulfillments"][0]["id"], "status": status}, **api.as_staff(SEATTLE)
        )
        assert moved["fulfillmentUpdateStatus"]["userErrors"] == []
    [ana] = (await api.data(SEARCH, {"query": "ana@example.com"}, **api.as_role("support")))[
        "supportMemberSearch"
    ]
    own = (await api.data("{ me { loyalty { points tier } } }", **api.as_member("m1")))["me"]["loyalty"]
    assert ana["loyalty"] == own and own["points"] > 0
    assert (ana["firstName"], ana["email"]) == ("Ana", "ana@example.com")


async def test_each_member_found_is_audited_a_search_that_finds_none_writes_nothing(api: Api):
    await _give_phone(api, "m1", "+44 20 7946 0018")
    await _give_phone(api, "m2", "020 7946 0018")  # both numbers end alike
    found = await api.data(SEARCH, {"query": "020 7946 0018"}, **api.as_role("support"))
    assert sorted(m["id"] for m in found["supportMemberSearch"]) == sorted([M1, gid("Member", "m2")])
    assert await _found(api, "nobody@example.com") == []
    admin = api.as_role("admin")
    for member in ("m1", "m2"):
        log = (await api.data(AUDIT, {"memberId": gid("Member", member)}, **admin))["auditLog"]["nodes"]
        assert [(e["actor"], e["action"], e["fields"]) for e in log] == [
            ("staff:support", "READ", ["email", "firstName", "id", "lastName", "loyalty", "phone"])
        ]
    everyone = (await api.data(AUDIT, {}, **admin))["auditLog"]["nodes"]
    assert len(everyone) == 2


async def test_bad_input_is_an_answer_not_a_failure(api: Api):
    support = api.as_role("support")
    for variables in ({"query": "  "}, {"query": "x" * 321}, {"query": "m1", "first": 0},
                      {"query": "m1", "first": 21}):  # fmt: skip
        body = await api.gql(SEARCH, variables, **support)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], variables
        assert body["data"] is None
    assert (await api.data(SEARCH, {"query": "m1", "first": 1}, **support))["supportMemberSearch"]


CALLERS = ["anonymous", "member", "staff of store 1", "staff of store 2", "analyst", "support", "admin",
           "partner key", "integration", "order sync"]  # fmt: skip


@pytest.mark.parametrize("caller", CALLERS)
async def test_only_staff_with_the_support_role_search_members(database_url: str, caller: str):
    async with gateway(database_url, partner_keys=PARTNERS) as api:
        headers = {
            "anonymous": {},
            "member": api.as_member("m1"),
            "staff of store 1": api.as_staff(SEATTLE),
            "staff of store 2": api.as_staff(BELLEVUE),
            "analyst": api.as_role("analyst-1"),
            "support": api.as_role("support"),
            "admin": api.as_role("admin"),
            "partner key": {"X-API-Key": PARTNER_KEY},
            "integration": api.as_integration(),
            "order sync": api.as_order_sync(),
        }[caller]
        body = await api.gql(SEARCH, {"query": "ana@example.com"}, **headers)
        if caller == "support":
            assert [m["id"] for m in body["data"]["supportMemberSearch"]] == [M1]
        else:
            expected = "UNAUTHENTICATED" if caller == "anonymous" else "FORBIDDEN"
            assert [e["extensions"]["code"] for e in body["errors"]] == [expected], body
            assert body["data"] is None
        log = (await api.data(AUDIT, {"memberId": M1}, **api.as_role("admin")))["auditLog"]["nodes"]
        assert len(log) == (1 if caller == "support" else 0)  # a refused search reads nothing
