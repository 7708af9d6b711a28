"""One cart on every device, through the API: `me.cart`, signing in on a second device (the
first device's cart answers MERGED and names the cart it went to), lines another currency
cannot price left behind, and a store tablet's cart attached to a customer by staff of that
store (and by no one else). The subscriptions side is in tests/test_cart_devices_live.py."""

from __future__ import annotations

from typing import Any

from tests.commerce import (
    ERRORS,
    SEATTLE,
    VISA,
    checkout,
    create_cart,
    gid,
    line,
    location_id,
    set_stock,
    variant_id,
)

VANCOUVER = 11
NOT_IN_CANADA = 54

CART = """query ($id: ID!) { cart(id: $id) { id status currencyCode mergedInto { id }
  member { id } location { id } lines { quantity variant { id } } } }"""
ME_CART = "{ me { cart { id status lines { quantity variant { id } } } } }"
ATTACH = f"""mutation ($cartId: ID!) {{ cartAttachMember(cartId: $cartId) {{
  cart {{ id status lines {{ quantity variant {{ id }} unitPrice {{ amount currencyCode }} }} }}
  {ERRORS} }} }}"""
ASSIGN = f"""mutation ($cartId: ID!, $memberId: ID, $email: String) {{
  cartAssignMember(cartId: $cartId, memberId: $memberId, email: $email) {{
    cart {{ id member {{ id }} lines {{ quantity variant {{ id }} unitPrice {{ amount currencyCode }} }} }}
    {ERRORS} }} }}"""
ADD = f"""mutation ($cartId: ID!, $lines: [CartLineInput!]!) {{
  cartLinesAdd(cartId: $cartId, lines: $lines) {{ cart {{ id }} {ERRORS} }} }}"""
CREATE = (
    f"""mutation ($input: CartCreateInput!) {{ cartCreate(input: $input) {{ cart {{ id }} {ERRORS} }} }}"""
)


def lines_of(cart: dict) -> dict[str, int]:
    return {ln["variant"]["id"]: ln["quantity"] for ln in cart["lines"]}


def codes(body: dict) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def test_me_cart_is_the_members_cart_on_every_device(api: Any):
    assert (await api.data(ME_CART, **api.as_member("m1")))["me"]["cart"] is None
    phone = await create_cart(api, line(1, 2), lean=True, **api.as_member("m1"))
    # Another device, signed in as the same member, finds it without knowing its id.
    assert (await api.data(ME_CART, **api.as_member("m1")))["me"]["cart"]["id"] == phone["id"]
    assert (await api.data(ME_CART, **api.as_member("m2")))["me"]["cart"] is None
    assert (await api.data(ME_CART))["me"] is None  # anonymous: no member, no cart


async def test_signing_in_on_a_second_device_merges_without_destroying_the_first(api: Any):
    m1 = api.as_member("m1")
    phone = await create_cart(api, line(1, 2), line(3, 1), lean=True, **m1)
    laptop = await create_cart(api, line(1, 1), line(2, 1), lean=True)  # anonymous, then signs in
    payload = (await api.data(ATTACH, {"cartId": laptop["id"]}, **m1))["cartAttachMember"]
    assert payload["userErrors"] == []
    assert payload["cart"]["id"] == laptop["id"]
    assert lines_of(payload["cart"]) == {variant_id(1): 3, variant_id(2): 1, variant_id(3): 1}
    # The phone's id still answers: merged, naming the cart it went to, its lines as they were.
    first = (await api.data(CART, {"id": phone["id"]}, **m1))["cart"]
    assert (first["status"], first["mergedInto"]) == ("MERGED", {"id": laptop["id"]})
    assert lines_of(first) == {variant_id(1): 2, variant_id(3): 1}
    assert (await api.data(ME_CART, **m1))["me"]["cart"]["id"] == laptop["id"]
    # The merged cart takes no more changes and cannot be checked out; it says where to go.
    added = (await api.data(ADD, {"cartId": phone["id"], "lines": [line(4)]}, **m1))["cartLinesAdd"]
    assert [e["code"] for e in added["userErrors"]] == ["CART_MERGED"]
    paid = await checkout(api, phone["id"], lean=True, **m1)
    assert [e["code"] for e in paid["userErrors"]] == ["CART_MERGED"]
    again = (await api.data(ATTACH, {"cartId": phone["id"]}, **m1))["cartAttachMember"]
    assert [e["code"] for e in again["userErrors"]] == ["CART_MERGED"]
    # Neither cart opens for anyone else.
    for cart_id in (phone["id"], laptop["id"]):
        assert codes(await api.gql(CART, {"id": cart_id})) == ["UNAUTHENTICATED"]
        assert codes(await api.gql(CART, {"id": cart_id}, **api.as_member("m2"))) == ["FORBIDDEN"]
        assert codes(await api.gql(CART, {"id": cart_id}, **api.as_staff(SEATTLE))) == ["FORBIDDEN"]
    # The surviving cart checks out as usual.
    await set_stock(api, 2, 9, 5)
    assert (await checkout(api, laptop["id"], lean=True, **m1))["userErrors"] == []


async def test_lines_the_surviving_cart_cannot_price_stay_on_the_merged_one(api: Any):
    m1 = api.as_member("m1")
    phone = await create_cart(api, line(1, 1), line(NOT_IN_CANADA, 1), lean=True, **m1)
    canadian = (await api.data(CREATE, {"input": {"country": "CA", "lines": [line(2)]}}))["cartCreate"][
        "cart"
    ]
    payload = (await api.data(ATTACH, {"cartId": canadian["id"]}, **m1))["cartAttachMember"]
    assert payload["userErrors"] == []
    assert lines_of(payload["cart"]) == {variant_id(1): 1, variant_id(2): 1}  # no guessed CAD price
    assert {ln["unitPrice"]["currencyCode"] for ln in payload["cart"]["lines"]} == {"CAD"}
    left = (await api.data(CART, {"id": phone["id"]}, **m1))["cart"]
    assert left["status"] == "MERGED" and variant_id(NOT_IN_CANADA) in lines_of(left)


async def test_staff_attach_their_stores_tablet_cart_to_a_customer(api: Any):
    staff = api.as_staff(VANCOUVER)
    app = await create_cart(api, line(1, 1), lean=True, **api.as_member("m1"))
    tablet = (await api.data(CREATE, {"input": {
        "channel": "STORE", "locationId": location_id(VANCOUVER), "lines": [line(2, 1)],
    }}, **staff))["cartCreate"]["cart"]  # fmt: skip
    # Nobody but staff of the tablet's store may attach it.
    variables = {"cartId": tablet["id"], "memberId": gid("Member", "m1")}
    assert codes(await api.gql(ASSIGN, variables)) == ["UNAUTHENTICATED"]
    assert codes(await api.gql(ASSIGN, variables, **api.as_member("m1"))) == ["FORBIDDEN"]
    assert codes(await api.gql(ASSIGN, variables, **api.as_staff(SEATTLE))) == ["FORBIDDEN"]
    # A cart built at no store is no store's to attach.
    assert codes(await api.gql(ASSIGN, {**variables, "cartId": app["id"]}, **staff)) == ["FORBIDDEN"]
    unknown = await api.data(ASSIGN, {"cartId": tablet["id"], "email": "nobody@example.com"}, **staff)
    assert [e["code"] for e in unknown["cartAssignMember"]["userErrors"]] == ["MEMBER_NOT_FOUND"]
    assert codes(await api.gql(ASSIGN, {"cartId": tablet["id"]}, **staff)) == ["BAD_USER_INPUT"]

    payload = await api.data(ASSIGN, {"cartId": tablet["id"], "email": "Ana@Example.com"}, **staff)
    cart = payload["cartAssignMember"]["cart"]
    assert payload["cartAssignMember"]["userErrors"] == []
    assert cart["member"] == {"id": gid("Member", "m1")}
    # The app cart merged into the tablet's, priced at the tablet's store, in its currency.
    assert lines_of(cart) == {variant_id(1): 1, variant_id(2): 1}
    assert {ln["unitPrice"]["currencyCode"] for ln in cart["lines"]} == {"CAD"}
    # The customer sees it as their cart on every device; the app's cart names it.
    assert (await api.data(ME_CART, **api.as_member("m1")))["me"]["cart"]["id"] == tablet["id"]
    merged = (await api.data(CART, {"id": app["id"]}, **api.as_member("m1")))["cart"]
    assert merged["mergedInto"] == {"id": tablet["id"]}
    # The store's staff still open it at the till; other stores' staff and members do not.
    seen = (await api.data(CART, {"id": tablet["id"]}, **staff))["cart"]
    assert (seen["member"], seen["location"]) == ({"id": gid("Member", "m1")}, {"id": location_id(VANCOUVER)})
    assert codes(await api.gql(CART, {"id": tablet["id"]}, **api.as_staff(SEATTLE))) == ["FORBIDDEN"]
    assert codes(await api.gql(CART, {"id": tablet["id"]}, **api.as_member("m2"))) == ["FORBIDDEN"]
    # Once a member's, it is not another member's to take.
    other = await api.data(ASSIGN, {"cartId": tablet["id"], "memberId": gid("Member", "m2")}, **staff)
    assert [e["code"] for e in other["cartAssignMember"]["userErrors"]] == ["CART_NOT_FOUND"]
    # The customer pays for it at the till's tablet (staff) or on their own device.
    await set_stock(api, 1, 9, 5)
    await set_stock(api, 2, 9, 5)
    paid = await checkout(api, tablet["id"], payment=VISA, lean=True, **api.as_member("m1"))
    assert paid["userErrors"] == []
