"""Offers through the API: targeted by segment, channel and place, applied in cart pricing with
the discount shown per line, kept on the order, reversed on return; `me.offers`; marketing
manages them; on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.commerce import (
    ERRORS,
    FULFILLMENT_UPDATE,
    RETURN_CREATE,
    SEATTLE,
    STORE_SALE,
    checkout,
    gid,
    line,
    location_id,
    set_stock,
    variant_id,
)
from tests.conftest import INTEGRATIONS, STAFF_TOKENS, Api
from tests.helpers import PARTNER_KEY, PARTNERS, bearer, gateway

MARKETER = {"token": "test-marketer", "subject": "staff:mkt", "location_ids": [], "scopes": ["marketing"]}
TOOL_TOKEN = "test-marketing-tool"
TOOL = {"sha256": hashlib.sha256(TOOL_TOKEN.encode()).hexdigest(), "scopes": ["marketing"]}

SEGMENT = (
    f"""mutation ($input: SegmentInput!) {{ segmentCreate(input: $input) {{ segment {{ id }} {ERRORS} }} }}"""
)
OFFER = f"""
mutation ($input: OfferInput!) {{
  offerCreate(input: $input) {{
    offer {{ id code percentOff segmentId channels storeIds near {{ latitude }} radiusKm active }} {ERRORS}
  }}
}}"""
OFFER_UPDATE = f"""
mutation ($id: ID!, $input: OfferInput!) {{
  offerUpdate(id: $id, input: $input) {{ offer {{ id active }} {ERRORS} }}
}}"""
OFFER_DELETE = f"mutation ($id: ID!) {{ offerDelete(id: $id) {{ deletedOfferId {ERRORS} }} }}"
OFFERS = "{ offers(first: 10) { nodes { code } } }"
MY_OFFERS = "{ me { offers { code percentOff channels } } }"
CART_CREATE = f"""
mutation ($input: CartCreateInput!) {{
  cartCreate(input: $input) {{
    cart {{ id subtotal {{ amount }} lines {{ fulfillment {{ mode }} unitPrice {{ amount }} total {{ amount }}
                                          discount {{ offerCode amount {{ amount currencyCode }} }} }} }}
    {ERRORS}
  }}
}}"""
ORDER_LINES = (
    "lines { id quantity unitPrice { amount } total { amount } discount { offerCode amount { amount } } }"
)
GEO = "query ($id: ID!) { location(id: $id) { geo { latitude longitude } } }"


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with gateway(
        database_url, staff_tokens=[*STAFF_TOKENS, MARKETER],
        integrations={**INTEGRATIONS, "marketing": TOOL},
        partner_keys=PARTNERS, loyalty_tiers={"SILVER": 1},
    ) as api:  # fmt: skip
        yield api


def as_marketer() -> dict[str, str]:
    return bearer(MARKETER["token"])


async def offer(api: Api, **given: object) -> dict:
    payload = (await api.data(OFFER, {"input": given}, **as_marketer()))["offerCreate"]
    assert payload["userErrors"] == [], payload["userErrors"]
    return payload["offer"]


async def cart(api: Api, channel: str, *lines: dict, **headers: str) -> dict:
    body = await api.data(CART_CREATE, {"input": {"channel": channel, "lines": list(lines)}}, **headers)
    assert body["cartCreate"]["userErrors"] == []
    return body["cartCreate"]["cart"]


async def silver_nearby(api: Api) -> None:
    """m1 becomes SILVER (a till sale); 10% off for SILVER members at stores within 20 km of the
    Seattle store; 5% off everything in the app."""
    await set_stock(api, 1, SEATTLE, 20)
    sale = {"input": {"locationId": location_id(SEATTLE), "idempotencyKey": "till-1",
                      "memberId": gid("Member", "m1"),
                      "lines": [{"variantId": variant_id(1), "quantity": 1}]}}  # fmt: skip
    assert (await api.data(STORE_SALE, sale, **api.as_staff(SEATTLE)))["storeSaleRecord"]["userErrors"] == []
    segment = {"input": {"code": "SILVER", "name": "Silver", "rules": {"tiers": ["SILVER"]}}}
    segment_id = (await api.data(SEGMENT, segment, **as_marketer()))["segmentCreate"]["segment"]["id"]
    geo = (await api.data(GEO, {"id": location_id(SEATTLE)}))["location"]["geo"]
    created = await offer(api, code="SILVER10", title="10% off for Silver nearby", percentOff=10,
                          segmentId=segment_id, near=geo, radiusKm=20.0)  # fmt: skip
    assert (created["segmentId"], created["radiusKm"], created["channels"]) == (segment_id, 20.0, [])
    await offer(api, code="APP5", title="5% off in the app", percentOff=5, channels=["MOBILE_APP"])


def cents(money: dict) -> int:
    return int(Decimal(money["amount"]) * 100)


async def test_offers_price_carts_line_by_line_and_stay_on_the_order(api: Api):
    await silver_nearby(api)
    lines = (line(1, 2, "PICKUP", SEATTLE), line(3, 1))
    mine = await cart(api, "WEB", *lines, **api.as_member("m1"))
    pickup, shipped = mine["lines"]
    unit = cents(pickup["unitPrice"])
    assert pickup["discount"]["offerCode"] == "SILVER10"
    assert cents(pickup["discount"]["amount"]) == unit * 10 // 100 * 2
    assert cents(pickup["total"]) == (unit - unit * 10 // 100) * 2
    assert shipped["discount"] is None  # the offer is for stores nearby: a shipped line is not
    assert cents(mine["subtotal"]) == cents(pickup["total"]) + cents(shipped["total"])
    # Not SILVER, no discount; in the app, anyone gets the app's offer.
    theirs = await cart(api, "WEB", *lines, **api.as_member("m2"))
    assert [ln["discount"] for ln in theirs["lines"]] == [None, None]
    app = await cart(api, "MOBILE_APP", line(3, 1))
    assert app["lines"][0]["discount"]["offerCode"] == "APP5"
    # Offers a member qualifies for; the app's is everyone's.
    mine_now = (await api.data(MY_OFFERS, **api.as_member("m1")))["me"]["offers"]
    assert [(o["code"], o["channels"]) for o in mine_now] == [("SILVER10", []), ("APP5", ["MOBILE_APP"])]
    assert [o["code"] for o in (await api.data(MY_OFFERS, **api.as_member("m2")))["me"]["offers"]] == ["APP5"]

    # Checked out: the order charges the net price and keeps the discount on the line.
    order = (await checkout(api, mine["id"], **api.as_member("m1")))["order"]
    query = f"""query ($id: ID!) {{
      order(id: $id) {{ total {{ amount }} {ORDER_LINES} fulfillments {{ id mode }} }} }}"""
    placed = (await api.data(query, {"id": order["id"]}, **api.as_member("m1")))["order"]
    kept = placed["lines"][0]
    assert cents(kept["unitPrice"]) == unit - unit * 10 // 100
    assert kept["discount"]["offerCode"] == "SILVER10"
    assert kept["discount"]["amount"]["amount"] == pickup["discount"]["amount"]["amount"]
    assert cents(placed["total"]) == cents(mine["subtotal"])
    # The offer ends: the order keeps what it had.
    first = (await api.data("{ offers(first: 1) { nodes { id } } }", **as_marketer()))["offers"]["nodes"][0]
    await api.data(OFFER_DELETE, {"id": first["id"]}, **as_marketer())
    again = (await api.data(query, {"id": order["id"]}, **api.as_member("m1")))["order"]
    assert again["lines"][0]["discount"]["offerCode"] == "SILVER10"

    # A return refunds what was paid for the unit: the discount is reversed with it.
    pickup_fulfillment = next(f["id"] for f in placed["fulfillments"] if f["mode"] == "PICKUP")
    for status in ("READY_FOR_PICKUP", "PICKED_UP"):
        await api.data(
            FULFILLMENT_UPDATE, {"id": pickup_fulfillment, "status": status}, **api.as_staff(SEATTLE)
        )
    returned = {"input": {"orderId": order["id"], "locationId": location_id(SEATTLE),
                          "lines": [{"orderLineId": kept["id"], "quantity": 1}]}}  # fmt: skip
    payload = (await api.data(RETURN_CREATE, returned, **api.as_staff(SEATTLE)))["returnCreate"]
    assert payload["userErrors"] == []
    assert cents(payload["return"]["refund"]) == unit - unit * 10 // 100


async def test_offers_in_force_only_when_and_where_they_apply(api: Api):
    await set_stock(api, 1, SEATTLE, 5)
    created = await offer(
        api, code="STORE1", title="At store 1", percentOff=20, storeIds=[location_id(SEATTLE)]
    )
    at_store = {"input": {"channel": "STORE", "locationId": location_id(SEATTLE), "lines": [line(3, 1)]}}
    tablet = await api.data(CART_CREATE, at_store, **api.as_staff(SEATTLE))
    assert tablet["cartCreate"]["cart"]["lines"][0]["discount"]["offerCode"] == "STORE1"
    store_one = {
        "code": "STORE1",
        "title": "At store 1",
        "percentOff": 20,
        "storeIds": [location_id(SEATTLE)],
    }
    paused = {"id": created["id"], "input": {**store_one, "active": False}}
    assert (await api.data(OFFER_UPDATE, paused, **as_marketer()))["offerUpdate"]["offer"]["active"] is False
    guest = await cart(api, "WEB", line(1, 1, "PICKUP", SEATTLE))
    assert guest["lines"][0]["discount"] is None
    # From a date on, by the gateway's clock.
    api.start_clock_at(datetime(2030, 1, 1, tzinfo=UTC) - timedelta(days=1))
    later = {**store_one, "code": "LATER", "validFrom": "2030-01-01T00:00:00+00:00"}
    await offer(api, **later)
    assert (await cart(api, "WEB", line(1, 1, "PICKUP", SEATTLE)))["lines"][0]["discount"] is None
    api.advance(days=2)
    assert (await cart(api, "WEB", line(1, 1, "PICKUP", SEATTLE)))["lines"][0]["discount"][
        "offerCode"
    ] == "LATER"


async def test_offer_changes_are_checked_and_only_marketing_makes_them(api: Api):
    base = {"code": "X", "title": "x", "percentOff": 10}
    cases = [
        ({**base, "percentOff": 0}, [(["input", "percentOff"], "INVALID")]),
        ({**base, "code": "no spaces"}, [(["input", "code"], "INVALID")]),
        ({**base, "radiusKm": 5.0}, [(["input", "radiusKm"], "INVALID")]),
        ({**base, "storeIds": [location_id(9999)]}, [(["input", "storeIds", "0"], "LOCATION_NOT_FOUND")]),
        ({**base, "segmentId": gid("Segment", 9999)}, [(["input", "segmentId"], "SEGMENT_NOT_FOUND")]),
    ]
    for given, expected in cases:
        payload = (await api.data(OFFER, {"input": given}, **as_marketer()))["offerCreate"]
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == expected, given
    await offer(api, **base)
    taken = (await api.data(OFFER, {"input": base}, **as_marketer()))["offerCreate"]
    assert [e["code"] for e in taken["userErrors"]] == ["OFFER_CODE_TAKEN"]
    missing = (await api.data(OFFER_DELETE, {"id": gid("Offer", 9999)}, **as_marketer()))["offerDelete"]
    assert [e["code"] for e in missing["userErrors"]] == ["OFFER_NOT_FOUND"]
    assert (await api.data(OFFERS, **bearer(TOOL_TOKEN)))["offers"]["nodes"] == [{"code": "X"}]
    for document, variables in ((OFFERS, None), (OFFER, {"input": base})):
        body = await api.gql(document, variables)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
        for caller in (api.as_member("m1"), api.as_staff(SEATTLE), bearer(PARTNER_KEY), api.as_integration()):
            body = await api.gql(document, variables, **caller)
            assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], (document, caller)
    assert (await api.data(MY_OFFERS))["me"] is None
