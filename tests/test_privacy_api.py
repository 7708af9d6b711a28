"""Privacy through the API: marketing consent per channel (the member's to change), a member's
data export and erasure (their own, or the back office's with members:privacy), on SQLite and
PostgreSQL, and through the member-directory port to a CRM."""

from __future__ import annotations

import hashlib
import json

from tests.commerce import (
    ERRORS,
    SEATTLE,
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

CONSENTS = "{ me { marketingConsent marketingConsents { channel granted updatedAt } } }"
CONSENTS_UPDATE = f"""
mutation ($consents: [MarketingConsentInput!]!) {{
  memberConsentsUpdate(consents: $consents) {{ consents {{ channel granted updatedAt }} {ERRORS} }}
}}"""
EXPORT = f"mutation ($memberId: ID) {{ memberDataExport(memberId: $memberId) {{ memberId data {ERRORS} }} }}"
ERASE = f"""
mutation ($memberId: ID) {{
  memberErase(memberId: $memberId) {{ memberId erasedAt systems {{ system outcome }} {ERRORS} }}
}}"""
LOGIN = f"""
mutation ($email: String!, $password: String!) {{
  memberLogin(email: $email, password: $password) {{ token {ERRORS} }}
}}"""
PROFILE_UPDATE = (
    "mutation ($input: MemberUpdateInput!) { memberUpdate(input: $input) { userErrors { code } } }"
)
ME = "{ me { id email firstName lastName phone addresses { city } preferredStore { id } cart { id } } }"
WATCH = """mutation ($variantId: ID!, $locationId: ID!) {
  stockWatchCreate(variantId: $variantId, locationId: $locationId) { userErrors { code } } }"""
WATCHES = "{ me { stockWatches { variantId } } }"
ORDER_STATUS = "query ($id: ID!) { order(id: $id) { id status member { id } } }"

PRIVACY_TOKEN = "test-privacy-desk"
PRIVACY_DESK_TOKEN = "test-privacy-integration"
BACK_OFFICE = {
    "token": "test-back-office",
    "subject": "staff:dpo",
    "location_ids": [],
    "scopes": ["members:privacy"],
}
INTEGRATION_WITH_PRIVACY = {
    **INTEGRATIONS,
    "privacy-desk": {
        "sha256": hashlib.sha256(PRIVACY_DESK_TOKEN.encode()).hexdigest(),
        "scopes": ["members:privacy"],
    },
}


def codes(body: dict) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def test_a_member_changes_consent_channel_by_channel(api: Api):
    before = (await api.data(CONSENTS, **api.as_member("m1")))["me"]
    assert before == {
        "marketingConsent": False,
        "marketingConsents": [
            {"channel": c, "granted": False, "updatedAt": None} for c in ("EMAIL", "SMS", "PUSH")
        ],
    }
    answers = {"consents": [{"channel": "EMAIL", "granted": True}, {"channel": "SMS", "granted": False}]}
    payload = (await api.data(CONSENTS_UPDATE, answers, **api.as_member("m1")))["memberConsentsUpdate"]
    assert payload["userErrors"] == []
    assert [(c["channel"], c["granted"], c["updatedAt"] is not None) for c in payload["consents"]] == [
        ("EMAIL", True, True), ("SMS", False, True), ("PUSH", False, False),
    ]  # fmt: skip
    # Channels never answered follow the member's one flag; answered ones keep their answer.
    await api.data("mutation { memberUpdate(input: {marketingConsent: true}) { userErrors { code } } }",
                   **api.as_member("m1"))  # fmt: skip
    after = (await api.data(CONSENTS, **api.as_member("m1")))["me"]["marketingConsents"]
    assert [(c["channel"], c["granted"]) for c in after] == [("EMAIL", True), ("SMS", False), ("PUSH", True)]
    # Each member's own: another member's answers are theirs.
    other = (await api.data(CONSENTS, **api.as_member("m2")))["me"]["marketingConsents"]
    assert [c["granted"] for c in other] == [False, False, False]
    none = (await api.data(CONSENTS_UPDATE, {"consents": []}, **api.as_member("m1")))["memberConsentsUpdate"]
    assert [e["code"] for e in none["userErrors"]] == ["INVALID"]
    # Only a signed-in member changes their consent.
    assert codes(await api.gql(CONSENTS_UPDATE, answers)) == ["UNAUTHENTICATED"]
    assert codes(await api.gql(CONSENTS_UPDATE, answers, **api.as_staff(SEATTLE))) == ["FORBIDDEN"]
    assert codes(await api.gql(CONSENTS_UPDATE, answers, **api.as_integration())) == ["FORBIDDEN"]
    bad = {"consents": [{"channel": "FAX", "granted": True}]}
    assert codes(await api.gql(CONSENTS_UPDATE, bad, **api.as_member("m1"))) == ["BAD_USER_INPUT"]


async def test_a_member_exports_everything_held_about_them(api: Api):
    await set_stock(api, 1, SEATTLE, 5)
    ordered = await create_cart(api, line(1, 2, "PICKUP", SEATTLE), **api.as_member("m1"))
    order = (await checkout(api, ordered["id"], **api.as_member("m1")))["order"]
    open_cart = await create_cart(api, line(2, 1), **api.as_member("m1"))
    await api.data(
        CONSENTS_UPDATE, {"consents": [{"channel": "PUSH", "granted": True}]}, **api.as_member("m1")
    )
    watch = {"variantId": variant_id(2), "locationId": location_id(SEATTLE)}
    await api.data(WATCH, watch, **api.as_member("m1"))

    payload = (await api.data(EXPORT, **api.as_member("m1")))["memberDataExport"]
    assert payload["userErrors"] == [] and payload["memberId"] == gid("Member", "m1")
    data = payload["data"]
    assert data["format"] == "omnigate.member-export/1" and data["memberId"] == gid("Member", "m1")
    assert (data["profile"]["email"], data["profile"]["firstName"]) == ("ana@example.com", "Ana")
    assert data["profile"]["signsInWithPassword"] is True and "password_hash" not in json.dumps(data)
    assert {c["channel"]: c["granted"] for c in data["marketingConsents"]} == {
        "EMAIL": False, "SMS": False, "PUSH": True,
    }  # fmt: skip
    [exported] = [o for o in data["orders"] if o["number"] == order["number"]]
    assert [(ln["quantity"], ln["fulfillment_id"] is not None) for ln in exported["lines"]] == [(2, True)]
    assert [f["mode"] for f in exported["fulfillments"]] == ["PICKUP"]
    assert [len(c["lines"]) for c in data["openCarts"]] == [1]
    assert data["loyalty"]["points"] >= 0
    assert [(w["variantId"], w["locationId"]) for w in data["stockWatches"]] == [(2, SEATTLE)]
    # Nothing secret: not a cart's id (its secret), not the payment provider's key.
    text = json.dumps(data)
    for cart in (ordered, open_cart):
        assert cart["id"] not in text
    assert "payment_key" not in text
    # Another member's export is theirs alone.
    theirs = (await api.data(EXPORT, **api.as_member("m2")))["memberDataExport"]["data"]
    assert theirs["profile"]["email"] == "ben@example.com" and order["number"] not in [
        o["number"] for o in theirs["orders"]
    ]


async def test_a_member_erases_themselves_and_their_orders_stay(api: Api):
    await set_stock(api, 1, SEATTLE, 5)
    cart = await create_cart(api, line(1, 1, "PICKUP", SEATTLE), **api.as_member("m2"))
    order = (await checkout(api, cart["id"], **api.as_member("m2")))["order"]
    await create_cart(api, line(2, 1), **api.as_member("m2"))
    await api.data(
        CONSENTS_UPDATE, {"consents": [{"channel": "EMAIL", "granted": True}]}, **api.as_member("m2")
    )
    address = {"address1": "1 Pine St", "city": "Seattle", "country": "US", "countryCode": "US"}
    update = {"input": {"phone": "+1 206 555 0100", "preferredStoreId": location_id(SEATTLE),
                        "addresses": [address]}}  # fmt: skip
    await api.data(PROFILE_UPDATE, update, **api.as_member("m2"))
    await api.data(
        WATCH, {"variantId": variant_id(2), "locationId": location_id(SEATTLE)}, **api.as_member("m2")
    )

    payload = (await api.data(ERASE, **api.as_member("m2")))["memberErase"]
    assert payload["userErrors"] == [] and payload["memberId"] == gid("Member", "m2")
    assert payload["systems"] == [
        {"system": "memberDirectory", "outcome": "ERASED"}, {"system": "gateway", "outcome": "ERASED"},
    ]  # fmt: skip
    me = (await api.data(ME, **api.as_member("m2")))["me"]
    assert me == {
        "id": gid("Member", "m2"), "email": "erased-m2@erased.invalid", "firstName": "", "lastName": "",
        "phone": None, "addresses": [], "preferredStore": None, "cart": None,
    }  # fmt: skip
    assert (await api.data(WATCHES, **api.as_member("m2")))["me"]["stockWatches"] == []
    consents = (await api.data(CONSENTS, **api.as_member("m2")))["me"]["marketingConsents"]
    assert [c["granted"] for c in consents] == [False, False, False]
    ben = {"email": "ben@example.com", "password": "omnigate-demo"}
    login = (await api.data(LOGIN, ben))["memberLogin"]
    assert login["token"] is None
    # The order stays for accounting, under the key, for its staff and in the member's history.
    kept = (await api.data(ORDER_STATUS, {"id": order["id"]}, **api.as_staff(SEATTLE)))["order"]
    assert kept["id"] == order["id"] and kept["member"]["id"] == gid("Member", "m2")
    data = (await api.data(EXPORT, **api.as_member("m2")))["memberDataExport"]["data"]
    assert data["profile"]["email"] == "erased-m2@erased.invalid" and data["openCarts"] == []
    assert [o["number"] for o in data["orders"]] == [order["number"]]


async def test_who_may_ask_for_a_members_data(database_url: str):
    staff = [*STAFF_TOKENS, BACK_OFFICE]
    async with gateway(database_url, staff_tokens=staff, integrations=INTEGRATION_WITH_PRIVACY,
                       partner_keys=PARTNERS) as api:  # fmt: skip
        ana = {"memberId": gid("Member", "m1")}
        for document in (EXPORT, ERASE):
            assert codes(await api.gql(document, ana)) == ["UNAUTHENTICATED"]
            assert codes(await api.gql(document)) == ["UNAUTHENTICATED"]
            for denied in (api.as_member("m2"), api.as_staff(SEATTLE), bearer(PARTNER_KEY),
                           api.as_integration(), api.as_order_sync()):  # fmt: skip
                assert codes(await api.gql(document, ana, **denied)) == ["FORBIDDEN"], denied
            malformed = await api.gql(document, {"memberId": "not-an-id"}, **bearer(BACK_OFFICE["token"]))
            assert codes(malformed) == ["BAD_USER_INPUT"]
        # Staff with no memberId: no member of their own.
        assert codes(await api.gql(EXPORT, **api.as_staff(SEATTLE))) == ["FORBIDDEN"]
        # The member asks for their own, by id too.
        own = (await api.data(EXPORT, ana, **api.as_member("m1")))["memberDataExport"]
        assert own["data"]["profile"]["email"] == "ana@example.com"
        # The back office: staff with members:privacy, and a privacy desk's integration.
        for desk in (bearer(BACK_OFFICE["token"]), bearer(PRIVACY_DESK_TOKEN)):
            exported = (await api.data(EXPORT, ana, **desk))["memberDataExport"]
            assert exported["userErrors"] == [] and exported["data"]["memberId"] == ana["memberId"]
            unnamed = (await api.data(EXPORT, **desk))["memberDataExport"]
            assert [e["code"] for e in unnamed["userErrors"]] == ["MEMBER_NOT_FOUND"]
            unknown = (await api.data(ERASE, {"memberId": gid("Member", "nobody")}, **desk))["memberErase"]
            assert [e["code"] for e in unknown["userErrors"]] == ["MEMBER_NOT_FOUND"]
        erased = await api.data(ERASE, {"memberId": gid("Member", "m3")}, **bearer(BACK_OFFICE["token"]))
        assert erased["memberErase"]["userErrors"] == []
        chloe = {"Authorization": f"Bearer {api.gateway.tokens.member('m3')}"}
        assert (await api.data("{ me { email } }", **chloe))["me"]["email"] == "erased-m3@erased.invalid"
        # A staff JWT may carry the scope too.
        jwt = api.gateway.tokens.issue("dpo", role="staff", locations=[], scopes=["members:privacy"])
        assert (await api.data(EXPORT, ana, **bearer(jwt)))["memberDataExport"]["userErrors"] == []


async def test_erasure_reaches_the_crm_through_its_port(make_api):
    """A CRM behind the member directory (the memory upstream): its record is erased by its
    adapter, the gateway-kept fields (consent, preferred store) by the gateway."""
    from adapters import memory
    from adapters.records import MemberRecord
    from tests.test_auth import hs256

    data = memory.MemoryData()
    data.members["7"] = MemberRecord("7", "gus@example.com", "Gus", "Grey", "+1 555 0100", ())
    api = await make_api(seeded=True, upstreams={"memory": memory.connect(data)}, customers="memory")
    as_gus = bearer(hs256({"sub": "7"}))
    await api.data(
        "mutation { memberUpdate(input: {marketingConsent: true}) { userErrors { code } } }", **as_gus
    )
    await api.data(CONSENTS_UPDATE, {"consents": [{"channel": "SMS", "granted": True}]}, **as_gus)
    exported = (await api.data(EXPORT, **as_gus))["memberDataExport"]["data"]
    assert exported["profile"]["crm"]["email"] == "gus@example.com"
    assert exported["profile"]["gateway"]["marketing_consent"] is True
    payload = (await api.data(ERASE, **as_gus))["memberErase"]
    assert payload["systems"] == [
        {"system": "memberDirectory", "outcome": "ERASED"}, {"system": "gateway", "outcome": "ERASED"},
    ]  # fmt: skip
    assert data.members["7"] == MemberRecord("7", None, "", "", None, ())
    after = (await api.data(CONSENTS, **as_gus))["me"]
    assert (
        after["marketingConsent"] is False
        and [c["granted"] for c in after["marketingConsents"]] == [False] * 3
    )


BUYER_CHECKOUT = """
mutation ($cartId: ID!, $buyer: CheckoutBuyerInput!) {
  checkoutComplete(cartId: $cartId, payment: {method: CARD, cardToken: "tok_visa"},
                   idempotencyKey: "buyer-1", buyer: $buyer) { order { id } userErrors { code } }
}"""


async def test_erasure_takes_the_buyer_off_the_members_orders(api: Api):
    """The contact and address an order keeps for the ERP are personal data: erasure removes
    them and keeps the order."""
    import sqlalchemy as sa

    from adapters.store import tables

    await set_stock(api, 1, SEATTLE, 5)
    cart = await create_cart(api, line(1, 1), **api.as_member("m2"))
    address = {"address1": "1 Pine St", "city": "Seattle", "country": "US", "countryCode": "US"}
    buyer = {"email": "ben@example.com", "firstName": "Ben", "shippingAddress": address}
    placed = await api.data(BUYER_CHECKOUT, {"cartId": cart["id"], "buyer": buyer}, **api.as_member("m2"))
    assert placed["checkoutComplete"]["userErrors"] == []
    kept = sa.select(tables.orders.c.email, tables.orders.c.buyer, tables.orders.c.shipping_address).where(
        tables.orders.c.member_id == "m2"
    )
    async with api.gateway.store.reading() as conn:
        assert (await conn.execute(kept)).one().email == "ben@example.com"
    assert (await api.data(ERASE, **api.as_member("m2")))["memberErase"]["userErrors"] == []
    async with api.gateway.store.reading() as conn:
        assert tuple((await conn.execute(kept)).one()) == (None, None, None)
    order = placed["checkoutComplete"]["order"]
    assert (await api.data(ORDER_STATUS, {"id": order["id"]}, **api.as_member("m2")))["order"]["id"]
