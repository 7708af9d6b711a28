"""Prices per channel, currency and market through the API: `@inContext` on the catalog (both
executors, every kind of caller, the response cache's keys), the precedence of price lists,
dated lists on the gateway's clock, and carts, checkout, orders, returns and till sales in the
cart's (or store's) currency.

The demo's lists (adapters/store/demo.py) price variant 1 (US$57.50 in the catalog) on each:
CA-STANDARD 78.95, CA-APP 70.95, CA-GOLD 66.95, CA-YVR (Vancouver) 74.95, CA-YVR-GOLD 62.95,
CA-SPRING-2026 58.95 (March 2026); US-APP 50.95, US-GOLD 47.95. Product 20's variants (54, 55)
are not sold in Canada.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.commerce import (
    CHECKOUT,
    ERRORS,
    FULFILLMENT_UPDATE,
    GIFT_CARD_ISSUE,
    RETURN_CREATE,
    SEATTLE,
    STORE_SALE,
    VISA,
    gid,
    line,
    location_id,
    set_stock,
    variant_id,
)
from tests.conftest import make_settings, serving

VANCOUVER, VICTORIA = 11, 12
NOT_IN_CANADA = 54  # a variant of product 20
GOLD_TIERS = {"SILVER": 10, "GOLD": 50}  # a US$57.50 till sale makes a member GOLD

PRICE = """
query ($id: ID!, $country: String, $currency: CurrencyCode, $channel: Channel, $location: ID)
@inContext(country: $country, currency: $currency, channel: $channel, location: $location) {
  node(id: $id) { ... on ProductVariant {
    price { amount currencyCode } compareAtPrice { amount currencyCode }
    product { priceRange { minVariantPrice { amount currencyCode } maxVariantPrice { currencyCode } } }
  } }
}"""
PLAIN = """query ($id: ID!) { node(id: $id) { ... on ProductVariant {
  price { amount currencyCode } compareAtPrice { amount } } } }"""
TIER = "{ me { loyalty { tier } } }"


@pytest.fixture
async def api(database_url: str) -> Any:
    async with serving(make_settings(database_url, loyalty_tiers=GOLD_TIERS)) as api:
        yield api


@pytest.fixture
async def standard(database_url: str, api: Any) -> Any:
    """A second gateway on the same database, strawberry's executor only, no response cache."""
    settings = make_settings(
        database_url, loyalty_tiers=GOLD_TIERS, compiled_execution=False, response_cache=False
    )
    async with serving(settings) as gateway:
        yield gateway


async def make_gold(api: Any, member: str = "m1") -> None:
    """Through the API: a till sale at Seattle (completed at once) lifts the member to GOLD."""
    await set_stock(api, 1, SEATTLE, 5)
    sale = {"input": {"locationId": location_id(SEATTLE), "idempotencyKey": f"gold-{member}",
                      "memberId": gid("Member", member),
                      "lines": [{"variantId": variant_id(1), "quantity": 1}]}}  # fmt: skip
    payload = (await api.data(STORE_SALE, sale, **api.as_staff(SEATTLE)))["storeSaleRecord"]
    assert payload["userErrors"] == []
    assert (await api.data(TIER, **api.as_member(member)))["me"]["loyalty"]["tier"] == "GOLD"


async def price_of(api: Any, variant: int = 1, headers: dict | None = None, **context: Any) -> dict:
    if "location" in context:
        context["location"] = location_id(context["location"])
    body = await api.data(PRICE, {"id": variant_id(variant), **context}, **(headers or {}))
    return body["node"]


def amount(node: dict) -> tuple[str, str]:
    return node["price"]["amount"], node["price"]["currencyCode"]


# --- the catalog in context ------------------------------------------------------------------


async def test_without_a_context_prices_are_the_catalogs_own(api: Any, standard: Any):
    await make_gold(api)
    for gateway in (api, standard):
        for headers in ({}, api.as_member("m1"), api.as_staff(VANCOUVER)):
            node = (await gateway.data(PLAIN, {"id": variant_id(1)}, **headers))["node"]
            assert node == {"price": {"amount": "57.50", "currencyCode": "USD"}, "compareAtPrice": None}


async def test_the_market_comes_from_the_currency_the_country_or_the_stores_country(api: Any, standard: Any):
    for gateway in (api, standard):
        assert amount(await price_of(gateway, country="CA")) == ("78.95", "CAD")
        assert amount(await price_of(gateway, currency="CAD")) == ("78.95", "CAD")
        assert amount(await price_of(gateway, location=VICTORIA)) == ("78.95", "CAD")  # no store list
        assert amount(await price_of(gateway, country="US")) == ("57.50", "USD")
        assert amount(await price_of(gateway, country="FR")) == ("57.50", "USD")  # no market: the shop's
        # The explicit currency wins over the country's market.
        assert amount(await price_of(gateway, country="CA", currency="USD")) == ("57.50", "USD")
        node = await price_of(gateway, country="CA")
        assert node["product"]["priceRange"]["minVariantPrice"]["currencyCode"] == "CAD"
        assert node["product"]["priceRange"]["maxVariantPrice"]["currencyCode"] == "CAD"


async def test_the_most_specific_list_wins(api: Any, standard: Any):
    """store + tier > store > tier > channel > market default, for every kind of caller."""
    await make_gold(api, "m1")
    gold, plain = api.as_member("m1"), api.as_member("m2")
    cases = [
        ({}, {"currency": "CAD"}, "78.95", None),  # CA-STANDARD (no compare-at on variant 1)
        ({}, {"currency": "CAD", "channel": "MOBILE_APP"}, "70.95", "78.95"),  # CA-APP
        ({}, {"currency": "CAD", "channel": "WEB"}, "78.95", None),  # no WEB list: the default
        (plain, {"currency": "CAD", "channel": "MOBILE_APP"}, "70.95", "78.95"),  # not GOLD
        (gold, {"currency": "CAD"}, "66.95", "78.95"),  # CA-GOLD
        (gold, {"currency": "CAD", "channel": "MOBILE_APP"}, "66.95", "78.95"),  # tier > channel
        ({}, {"location": VANCOUVER}, "74.95", "78.95"),  # CA-YVR
        ({}, {"location": VANCOUVER, "channel": "MOBILE_APP"}, "74.95", "78.95"),  # store > channel
        (gold, {"location": VANCOUVER}, "62.95", "78.95"),  # CA-YVR-GOLD: store + tier
        (plain, {"location": VANCOUVER}, "74.95", "78.95"),
        (gold, {"location": VICTORIA}, "66.95", "78.95"),  # the tier list, at another store
        (gold, {"currency": "USD"}, "47.95", "57.50"),  # US-GOLD
        ({}, {"currency": "USD", "channel": "MOBILE_APP"}, "50.95", "57.50"),  # US-APP
        (api.as_staff(VANCOUVER), {"location": VANCOUVER}, "74.95", "78.95"),  # staff: no tier
    ]
    for headers, context, price, compare_at in cases:
        for gateway in (api, standard):
            node = await price_of(gateway, headers=headers, **context)
            assert node["price"]["amount"] == price, (context, headers)
            assert (node["compareAtPrice"] or {}).get("amount") == compare_at, (context, headers)
    # The compiled path answered these itself, not by handing them to strawberry's executor.
    api.gateway.response_cache = None
    endpoint = next(r for r in api.app.routes if getattr(r, "path", "") == "/graphql").app
    endpoint.cache = None
    compiled, fallbacks = api.gateway.compiled.compiled, api.gateway.compiled.fallbacks
    assert (await price_of(api, headers=gold, location=VANCOUVER))["price"]["amount"] == "62.95"
    assert (api.gateway.compiled.compiled, api.gateway.compiled.fallbacks) == (compiled + 1, fallbacks)


@pytest.mark.dates
async def test_a_dated_list_wins_its_window_and_no_longer(api: Any, standard: Any):
    """CA-SPRING-2026 runs in March 2026 on the gateway's clock; it beats the standing list
    (same specificity, later start) only then, even for an answer the response cache kept."""
    for gateway in (api, standard):
        gateway.start_clock_at(datetime(2026, 3, 15, 12, tzinfo=UTC))
        assert amount(await price_of(gateway, country="CA")) == ("58.95", "CAD")
        node = await price_of(gateway, country="CA")
        assert node["compareAtPrice"] == {"amount": "78.95", "currencyCode": "CAD"}
        gateway.start_clock_at(datetime(2026, 4, 1, tzinfo=UTC))  # valid_until is exclusive
        assert amount(await price_of(gateway, country="CA")) == ("78.95", "CAD")
        gateway.start_clock_at(datetime(2026, 2, 28, 23, 59, tzinfo=UTC))
        assert amount(await price_of(gateway, country="CA")) == ("78.95", "CAD")


async def test_a_variant_no_list_prices_answers_its_catalog_price(api: Any, standard: Any):
    for gateway in (api, standard):
        node = await price_of(gateway, NOT_IN_CANADA, country="CA")
        assert amount(node) == ("187.50", "USD")  # never a guessed conversion
        # Its product has no Canadian price at all: the catalog's range, in USD.
        assert node["product"]["priceRange"]["minVariantPrice"] == {"amount": "187.50", "currencyCode": "USD"}


async def test_a_context_that_names_nothing_is_refused(api: Any, standard: Any):
    cases = [
        ({"currency": "EUR"}, "currency"),  # nothing is priced in EUR
        ({"country": "Canada"}, "country"),
        ({"location": 9999}, "location"),
    ]
    for gateway in (api, standard):
        for context, field in cases:
            if "location" in context:
                context = {"location": location_id(context["location"])}
            body = await gateway.gql(PRICE, {"id": variant_id(1), **context})
            assert [(e["extensions"]["code"], e["extensions"].get("field")) for e in body["errors"]] == [
                ("BAD_USER_INPUT", field)
            ], body
        body = await gateway.gql(PRICE, {"id": variant_id(1), "location": variant_id(1)})
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_the_context_is_part_of_the_response_caches_key(api: Any):
    """One body, several callers: a GOLD price is never served from the cache to an anonymous
    caller or another member, and a CAD answer never to a USD request."""
    await make_gold(api, "m1")
    cache = api.gateway.response_cache
    variables = {"id": variant_id(1), "country": "CA"}
    rounds = [
        (api.as_member("m1"), "66.95"),
        ({}, "78.95"),
        (api.as_member("m2"), "78.95"),
        (api.as_staff(VANCOUVER), "78.95"),
    ]
    for _ in range(2):  # the second round is served from the cache
        for headers, price in rounds:
            response = await api.post(PRICE, variables, **headers)
            assert response.json()["data"]["node"]["price"]["amount"] == price, headers
            assert "etag" in response.headers  # a cached (cacheable) answer
            # A member's answer went by their tier: no shared HTTP cache may keep it.
            member = headers.get("Authorization", "").startswith("Bearer test-member")
            assert response.headers["cache-control"].startswith("private" if member else "public")
    hits = cache.hits
    assert (await price_of(api, country="US"))["price"] == {"amount": "57.50", "currencyCode": "USD"}
    assert (await price_of(api, country="CA"))["price"] == {"amount": "78.95", "currencyCode": "CAD"}
    assert (await price_of(api, country="US"))["price"] == {"amount": "57.50", "currencyCode": "USD"}
    assert cache.hits == hits + 2
    # The member's tier is looked up per request: a new GOLD member is not served the old answer.
    await make_gold(api, "m2")
    response = await api.post(PRICE, variables, **api.as_member("m2"))
    assert response.json()["data"]["node"]["price"]["amount"] == "66.95"


# --- carts, orders, returns, till sales in the cart's currency --------------------------------

CART_PRICES = f"""
mutation ($input: CartCreateInput!) {{
  cartCreate(input: $input) {{
    cart {{ id currencyCode channel location {{ id }}
            subtotal {{ amount currencyCode }}
            lines {{ priced unitPrice {{ amount currencyCode }} total {{ amount currencyCode }} }} }}
    {ERRORS}
  }}
}}"""
LINES_ADD = f"""
mutation ($cartId: ID!, $lines: [CartLineInput!]!) {{
  cartLinesAdd(cartId: $cartId, lines: $lines) {{
    cart {{ lines {{ variant {{ id }} unitPrice {{ amount currencyCode }} }} }} {ERRORS}
  }}
}}"""


async def new_cart(api: Any, headers: dict | None = None, **fields: Any) -> dict:
    variables = {"input": {"lines": [line(1, 2)], **fields}}
    payload = (await api.data(CART_PRICES, variables, **(headers or {})))["cartCreate"]
    assert payload["userErrors"] == [], payload["userErrors"]
    return payload["cart"]


@pytest.mark.dates
async def test_a_cart_is_priced_in_its_channel_currency_store_and_members_tier(api: Any):
    plain = await new_cart(api)
    assert (plain["currencyCode"], plain["subtotal"]) == ("USD", {"amount": "115.00", "currencyCode": "USD"})
    app = await new_cart(api, channel="MOBILE_APP")
    assert app["lines"][0]["unitPrice"] == {"amount": "50.95", "currencyCode": "USD"}
    canada = await new_cart(api, country="CA")
    assert canada["currencyCode"] == "CAD"
    assert canada["lines"][0] == {
        "priced": True,
        "unitPrice": {"amount": "78.95", "currencyCode": "CAD"},
        "total": {"amount": "157.90", "currencyCode": "CAD"},
    }
    tablet = await new_cart(api, api.as_staff(VANCOUVER), channel="STORE", locationId=location_id(VANCOUVER))
    assert (tablet["currencyCode"], tablet["channel"]) == ("CAD", "STORE")
    assert tablet["location"] == {"id": location_id(VANCOUVER)}
    assert tablet["lines"][0]["unitPrice"]["amount"] == "74.95"
    await make_gold(api, "m1")
    gold = await new_cart(api, api.as_member("m1"), currencyCode="CAD")
    assert gold["lines"][0]["unitPrice"] == {"amount": "66.95", "currencyCode": "CAD"}


async def test_a_variant_with_no_price_in_the_carts_currency_cannot_be_added(api: Any):
    canada = await new_cart(api, country="CA")
    payload = (await api.data(LINES_ADD, {"cartId": canada["id"], "lines": [line(NOT_IN_CANADA), line(2)]}))[
        "cartLinesAdd"
    ]
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["lines", "0", "variantId"], "NOT_PRICED_IN_CURRENCY")
    ]
    assert payload["cart"] is None  # nothing of it was applied: not even the priced line
    refused = await api.data(CART_PRICES, {"input": {"country": "CA", "lines": [line(NOT_IN_CANADA)]}})
    assert [e["code"] for e in refused["cartCreate"]["userErrors"]] == ["NOT_PRICED_IN_CURRENCY"]
    euro = (await api.data(CART_PRICES, {"input": {"currencyCode": "EUR", "lines": []}}))["cartCreate"]
    assert [(e["field"], e["code"]) for e in euro["userErrors"]] == [
        (["input", "currencyCode"], "NOT_PRICED_IN_CURRENCY")
    ]
    warehouse = await api.data(CART_PRICES, {"input": {"locationId": location_id(9), "lines": []}})
    assert [e["code"] for e in warehouse["cartCreate"]["userErrors"]] == ["INVALID"]
    # The US cart takes it, at the catalog's price.
    us = await new_cart(api)
    added = (await api.data(LINES_ADD, {"cartId": us["id"], "lines": [line(NOT_IN_CANADA)]}))["cartLinesAdd"]
    assert added["userErrors"] == []
    assert added["cart"]["lines"][-1]["unitPrice"] == {"amount": "187.50", "currencyCode": "USD"}


ORDER_MONEY = f"""
mutation ($cartId: ID!, $payment: PaymentInput!, $key: String!) {{
  checkoutComplete(cartId: $cartId, payment: $payment, idempotencyKey: $key) {{
    order {{ id currencyCode subtotal {{ amount currencyCode }} total {{ amount currencyCode }}
             lines {{ id unitPrice {{ amount currencyCode }} total {{ amount currencyCode }} }}
             payments {{ amount {{ amount currencyCode }} }}
             fulfillments {{ id }} }}
    {ERRORS}
  }}
}}"""
ORDER = """query ($id: ID!) { order(id: $id) { currencyCode total { amount currencyCode }
  lines { unitPrice { amount currencyCode } } returns { refund { amount currencyCode } }
  payments { refunded { amount currencyCode } } } }"""


@pytest.mark.dates
async def test_an_order_keeps_the_currency_and_prices_it_was_sold_at_and_refunds_in_it(api: Any):
    await set_stock(api, 1, VANCOUVER, 5)
    headers = api.as_member("m1")
    cart = await new_cart(api, headers, country="CA", lines=[line(1, 2, "PICKUP", VANCOUVER)])
    paid = (await api.data(ORDER_MONEY, {"cartId": cart["id"], "payment": VISA, "key": "ca-1"}, **headers))[
        "checkoutComplete"
    ]
    assert paid["userErrors"] == []
    order = paid["order"]
    cad = {"currencyCode": "CAD"}
    assert order["currencyCode"] == "CAD"
    # The web's Canadian price: a line picked up at a store is not priced at that store (the
    # cart's own store, a tablet's, is: `locationId`).
    assert order["total"] == {"amount": "157.90", **cad}
    assert order["subtotal"] == {"amount": "157.90", **cad}
    assert order["lines"][0]["unitPrice"] == {"amount": "78.95", **cad}
    assert order["lines"][0]["total"] == {"amount": "157.90", **cad}
    assert order["payments"] == [{"amount": {"amount": "157.90", **cad}}]
    # The member's prices change later (GOLD now: 66.95 in Canada); the order keeps its own.
    await make_gold(api, "m1")
    staff = api.as_staff(VANCOUVER)
    fulfillment = order["fulfillments"][0]["id"]
    for status in ("READY_FOR_PICKUP", "PICKED_UP"):
        moved = await api.data(FULFILLMENT_UPDATE, {"id": fulfillment, "status": status}, **staff)
        assert moved["fulfillmentUpdateStatus"]["userErrors"] == []
    returned = await api.data(RETURN_CREATE, {"input": {
        "orderId": order["id"], "locationId": location_id(VANCOUVER),
        "lines": [{"orderLineId": order["lines"][0]["id"], "quantity": 1}],
    }}, **staff)  # fmt: skip
    assert returned["returnCreate"]["userErrors"] == []
    assert returned["returnCreate"]["return"]["refund"] == {"amount": "78.95"}
    seen = (await api.data(ORDER, {"id": order["id"]}, **headers))["order"]
    assert seen["lines"][0]["unitPrice"] == {"amount": "78.95", **cad}
    assert seen["returns"][0]["refund"] == {"amount": "78.95", **cad}
    assert seen["payments"][0]["refunded"] == {"amount": "78.95", **cad}


async def test_points_pay_only_in_the_shops_currency(api: Any):
    cart = await new_cart(api, api.as_member("m1"), country="CA")
    variables = {"cartId": cart["id"], "payment": {"method": "LOYALTY_POINTS"}, "key": "pts"}
    refused = (await api.data(CHECKOUT, variables, **api.as_member("m1")))["checkoutComplete"]
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
        (["payment", "method"], "PAYMENT_METHOD_NOT_ALLOWED")
    ]


async def test_a_gift_card_pays_only_in_its_own_currency(api: Any):
    issued = await api.data(GIFT_CARD_ISSUE, {"amount": "500.00"}, **api.as_staff(SEATTLE))
    code = issued["giftCardIssue"]["giftCard"]["code"]  # in the shop's currency, USD
    gift = {"method": "GIFT_CARD", "giftCardCode": code}
    canada = await new_cart(api, country="CA")
    refused = (await api.data(CHECKOUT, {"cartId": canada["id"], "payment": gift, "key": "g1"}))
    [error] = refused["checkoutComplete"]["userErrors"]
    assert error["code"] == "PAYMENT_DECLINED" and "holds USD" in error["message"]
    us = await new_cart(api)
    paid = (await api.data(CHECKOUT, {"cartId": us["id"], "payment": gift, "key": "g2"}))
    assert paid["checkoutComplete"]["userErrors"] == []


LOYALTY = "{ me { loyalty { points history(first: 5) { edges { node { kind points } } } } } }"


@pytest.mark.parametrize("rates", [{}, {"CAD": "0.73"}])
async def test_a_canadian_order_earns_at_the_retailers_rate_or_not_at_all(database_url: str, rates: dict):
    settings = make_settings(database_url, loyalty_currency_rates=rates)
    async with serving(settings) as api:
        sale = {"input": {"locationId": location_id(VANCOUVER), "idempotencyKey": "yvr-1",
                          "memberId": gid("Member", "m1"),
                          "lines": [{"variantId": variant_id(1), "quantity": 2}]}}  # fmt: skip
        await set_stock(api, 1, VANCOUVER, 5)
        payload = (await api.data(STORE_SALE, sale, **api.as_staff(VANCOUVER)))["storeSaleRecord"]
        assert payload["userErrors"] == []
        assert payload["order"]["total"] == {"amount": "149.90", "currencyCode": "CAD"}  # the store's prices
        loyalty = (await api.data(LOYALTY, **api.as_member("m1")))["me"]["loyalty"]
        # CA$149.90 at 0.73 counts as US$109.42: 109 points; with no rate, nothing (never guessed).
        assert loyalty["points"] == (109 if rates else 0)


async def test_a_till_sale_is_at_the_stores_prices_and_currency(api: Any):
    await set_stock(api, 1, VANCOUVER, 5)
    await set_stock(api, NOT_IN_CANADA, VANCOUVER, 5)
    sale = {"input": {"locationId": location_id(VANCOUVER), "idempotencyKey": "yvr-2",
                      "lines": [{"variantId": variant_id(1), "quantity": 1}]}}  # fmt: skip
    payload = (await api.data(STORE_SALE, sale, **api.as_staff(VANCOUVER)))["storeSaleRecord"]
    assert payload["order"]["total"] == {"amount": "74.95", "currencyCode": "CAD"}
    sale["input"].update(
        idempotencyKey="yvr-3", lines=[{"variantId": variant_id(NOT_IN_CANADA), "quantity": 1}]
    )
    refused = (await api.data(STORE_SALE, sale, **api.as_staff(VANCOUVER)))["storeSaleRecord"]
    assert [e["code"] for e in refused["userErrors"]] == ["NOT_PRICED_IN_CURRENCY"]


REDIS_URL = os.environ.get("GATEWAY_TEST_REDIS_URL")


@pytest.mark.skipif(not REDIS_URL, reason="GATEWAY_TEST_REDIS_URL is not set")
async def test_the_shared_cache_keeps_contexts_apart_across_processes(database_url: str):
    """Two gateway processes over one Redis: the GOLD answer one of them shares is never the
    anonymous caller's on the other, nor the CAD answer a USD request's."""
    prefix = f"omnigate-test-{uuid.uuid4().hex[:8]}:"
    settings = make_settings(database_url, loyalty_tiers=GOLD_TIERS, redis_url=REDIS_URL, redis_prefix=prefix)
    async with serving(settings) as a, serving(settings) as b:
        await make_gold(a, "m1")
        variables = {"id": variant_id(1), "country": "CA"}
        assert (await a.data(PRICE, variables, **a.as_member("m1")))["node"]["price"]["amount"] == "66.95"
        await asyncio.sleep(0.2)  # the shared write is in the background
        assert (await b.data(PRICE, variables))["node"]["price"]["amount"] == "78.95"
        assert (await b.data(PRICE, variables, **b.as_member("m2")))["node"]["price"]["amount"] == "78.95"
        assert (await b.data(PRICE, variables, **b.as_member("m1")))["node"]["price"]["amount"] == "66.95"
        assert (await b.data(PRICE, {**variables, "country": "US"}))["node"]["price"] == {
            "amount": "57.50", "currencyCode": "USD"
        }  # fmt: skip
