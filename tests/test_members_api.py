"""Members through the API: signing in, `me`, the profile, attaching and merging carts, and the
unified history (web and till alike)."""

from __future__ import annotations

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
from tests.conftest import Api

LOGIN = f"""
mutation ($email: String!, $password: String!) {{
  memberLogin(email: $email, password: $password) {{ token member {{ id email }} {ERRORS} }}
}}"""
ME = """
{ me { id email firstName lastName phone marketingConsent
       addresses { address1 city countryCode } preferredStore { id name }
       orders(first: 10) { edges { cursor node { id channel } } pageInfo { hasNextPage } } } }"""
UPDATE = f"""
mutation ($input: MemberUpdateInput!) {{
  memberUpdate(input: $input) {{ member {{ firstName marketingConsent preferredStore {{ id }}
                                         addresses {{ city }} }} {ERRORS} }}
}}"""
ATTACH = f"""
mutation ($cartId: ID!) {{
  cartAttachMember(cartId: $cartId) {{
    cart {{ id member {{ id }} lines {{ quantity variant {{ id }} fulfillment {{ mode }} }} }} {ERRORS}
  }}
}}"""
CART_MEMBER = "query ($id: ID!) { cart(id: $id) { id member { id email } } }"
MERGED = "query ($id: ID!) { cart(id: $id) { status mergedInto { id } } }"


async def test_member_login_issues_a_token_that_signs_them_in(api: Api):
    body = await api.data(LOGIN, {"email": "Ana@Example.com", "password": "omnigate-demo"})
    payload = body["memberLogin"]
    assert payload["userErrors"] == []
    assert payload["member"] == {"id": gid("Member", "m1"), "email": "ana@example.com"}
    me = await api.data(ME, Authorization=f"Bearer {payload['token']}")
    assert me["me"]["firstName"] == "Ana"
    assert me["me"]["preferredStore"]["id"] == location_id(1)


async def test_a_wrong_password_or_email_says_nothing_more(api: Api):
    for email, password in (("ana@example.com", "guess"), ("nobody@example.com", "omnigate-demo")):
        payload = (await api.data(LOGIN, {"email": email, "password": password}))["memberLogin"]
        assert payload["token"] is None and payload["member"] is None
        assert [e["code"] for e in payload["userErrors"]] == ["INVALID_CREDENTIALS"]


async def test_member_update_changes_the_profile_everywhere(api: Api):
    address = {"address1": "1 Pine St", "city": "Seattle", "country": "United States", "countryCode": "US"}
    variables = {"input": {"firstName": "Anna", "marketingConsent": True, "addresses": [address],
                           "preferredStoreId": location_id(SEATTLE + 1)}}  # fmt: skip
    payload = (await api.data(UPDATE, variables, **api.as_member("m1")))["memberUpdate"]
    assert payload["userErrors"] == []
    assert payload["member"] == {
        "firstName": "Anna", "marketingConsent": True, "preferredStore": {"id": location_id(2)},
        "addresses": [{"city": "Seattle"}],
    }  # fmt: skip
    me = (await api.data(ME, **api.as_member("m1")))["me"]
    assert (me["firstName"], me["lastName"], me["addresses"][0]["address1"]) == ("Anna", "Silva", "1 Pine St")
    unknown = {"input": {"preferredStoreId": location_id(9999)}}
    errors = (await api.data(UPDATE, unknown, **api.as_member("m1")))["memberUpdate"]["userErrors"]
    assert [e["code"] for e in errors] == ["LOCATION_NOT_FOUND"]
    anonymous = await api.gql(UPDATE, variables)
    assert [e["extensions"]["code"] for e in anonymous["errors"]] == ["UNAUTHENTICATED"]


async def test_attaching_a_cart_merges_the_members_open_cart(api: Api):
    await set_stock(api, 1, SEATTLE, 10)
    earlier = await create_cart(
        api, line(1, 2, "PICKUP", SEATTLE), line(3, 1), **api.as_member("m1")
    )
    guest = await create_cart(api, line(1, 1, "PICKUP", SEATTLE), line(2, 1))
    assert (await api.data(CART_MEMBER, {"id": guest["id"]}))["cart"]["member"] is None
    payload = (await api.data(ATTACH, {"cartId": guest["id"]}, **api.as_member("m1")))["cartAttachMember"]
    assert payload["userErrors"] == []
    cart = payload["cart"]
    assert cart["member"] == {"id": gid("Member", "m1")}
    quantities = {(ln["variant"]["id"], ln["fulfillment"]["mode"]): ln["quantity"] for ln in cart["lines"]}
    assert quantities == {
        (variant_id(1), "PICKUP"): 3,  # same variant and fulfillment: quantities add
        (variant_id(2), "SHIP"): 1,
        (variant_id(3), "SHIP"): 1,
    }
    # The earlier cart (another device's) still answers: merged, naming the cart it went to.
    merged = (await api.data(MERGED, {"id": earlier["id"]}, **api.as_member("m1")))["cart"]
    assert merged == {"status": "MERGED", "mergedInto": {"id": guest["id"]}}
    # The attached one now opens only for its member.
    anonymous = await api.gql(CART_MEMBER, {"id": guest["id"]})
    assert [e["extensions"]["code"] for e in anonymous["errors"]] == ["UNAUTHENTICATED"]
    assert anonymous["data"]["cart"] is None


async def test_me_orders_is_the_unified_history(api: Api):
    await set_stock(api, 1, SEATTLE, 3)
    cart = await create_cart(api, line(2), **api.as_member("m1"))
    web = (await checkout(api, cart["id"], **api.as_member("m1")))["order"]
    sale = {"input": {"locationId": location_id(SEATTLE), "idempotencyKey": "till-1",
                      "lines": [{"variantId": variant_id(1), "quantity": 1}],
                      "memberId": gid("Member", "m1")}}  # fmt: skip
    till = (await api.data(STORE_SALE, sale, **api.as_staff(SEATTLE)))["storeSaleRecord"]["order"]
    history = (await api.data(ME, **api.as_member("m1")))["me"]["orders"]
    assert [(e["node"]["id"], e["node"]["channel"]) for e in history["edges"]] == [
        (till["id"], "STORE"), (web["id"], "WEB"),
    ]  # fmt: skip
    assert (await api.data(ME, **api.as_member("m2")))["me"]["orders"]["edges"] == []


async def test_personal_answers_are_never_shared_between_members(api: Api):
    document = "{ me { id loyalty { points } } }"
    chloe = {"Authorization": f"Bearer {api.gateway.tokens.member('m3')}"}
    for _ in range(2):  # the second round would be served from a cache if one kept it
        for member, headers in (("m1", api.as_member("m1")), ("m2", api.as_member("m2")), ("m3", chloe)):
            assert (await api.data(document, **headers))["me"]["id"] == gid("Member", member)
    assert (await api.data(document))["me"] is None


async def test_a_crm_without_profile_edits_still_takes_the_fields_the_gateway_owns(make_api):
    """A CRM adapter that only reads (the memory upstream here): the names it holds are
    read-only, field by field; the consent and preferred store are the gateway's to keep."""
    from adapters import memory
    from adapters.records import MemberRecord
    from tests.helpers import bearer
    from tests.test_auth import hs256

    data = memory.MemoryData()
    data.members["7"] = MemberRecord("7", "gus@example.com", "Gus", "Grey", None, ())
    api = await make_api(seeded=True, upstreams={"memory": memory.connect(data)}, customers="memory")
    as_gus = bearer(hs256({"sub": "7"}))
    names = {"input": {"firstName": "Augustus", "marketingConsent": True}}
    payload = (await api.data(UPDATE, names, **as_gus))["memberUpdate"]
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "firstName"], "PROFILE_READ_ONLY")
    ]
    mine = {"input": {"marketingConsent": True, "preferredStoreId": location_id(SEATTLE)}}
    payload = (await api.data(UPDATE, mine, **as_gus))["memberUpdate"]
    assert payload["userErrors"] == []
    assert payload["member"]["firstName"] == "Gus"
    me = (await api.data(ME, **as_gus))["me"]
    assert (me["firstName"], me["marketingConsent"], me["preferredStore"]["id"]) == (
        "Gus", True, location_id(SEATTLE),
    )  # fmt: skip
    assert data.members["7"].marketing_consent is False  # nothing was copied into the CRM
