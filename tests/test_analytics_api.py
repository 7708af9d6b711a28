"""The `analytics` root: cross-channel sales, fulfillment mix, returns, stock and loyalty figures
from SQL aggregates, each also as CSV; store managers see their stores, HQ every location; and
who may read them at all."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from tests.commerce import (
    BELLEVUE,
    FULFILLMENT_UPDATE,
    PORTLAND,
    RETURN_CREATE,
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
from tests.helpers import PARTNER_KEY, PARTNERS, gateway

DAY = "2031-03-10"  # the gateway's clock stands on this day: the demo's own history is older

SALES = """
query ($since: Date, $until: Date, $groupBy: [SalesDimension!], $period: ReportPeriod) {
  analytics(since: $since, until: $until) {
    since until locations { id }
    sales(groupBy: $groupBy, period: $period) {
      rows { channel location { id } period orders units sales { amount currencyCode }
             averageOrderValue { amount } }
      csv
    }
  }
}"""
MIX = """
query ($since: Date, $until: Date) {
  analytics(since: $since, until: $until) {
    fulfillmentMix { rows { mode orders units sales { amount } } csv
                     pickup: unitShare(mode: PICKUP) till: orderShare(mode: IN_STORE) }
    returns { rows { channel unitsSold unitsReturned returnRate returnsInStore returnsElsewhere
                     crossChannelReturns } csv }
  }
}"""
STOCK = """
query ($since: Date, $until: Date) {
  analytics(since: $since, until: $until) {
    stock { rows { location { id } category onHand unitsSold sellThrough coverDays } csv }
  }
}"""
LOYALTY = """
query ($since: Date, $until: Date) {
  analytics(since: $since, until: $until) {
    loyalty(period: DAY) { outstandingPoints outstandingValue { amount } csv
                           periods { period earned spent reversed refunded } }
  }
}"""
RANGE = {"since": DAY, "until": DAY}


async def _history(api: Api) -> None:
    """On DAY: a web order picked up at Seattle (2 units) and returned at Portland, a member's
    web order shipped (1 unit), and a till sale at Bellevue (3 units)."""
    api.start_clock_at(datetime.fromisoformat(f"{DAY}T12:00:00+00:00"))
    await set_stock(api, 1, SEATTLE, 5)
    await set_stock(api, 1, BELLEVUE, 5)
    cart = await create_cart(api, line(1, 2, "PICKUP", SEATTLE))
    pickup = (await checkout(api, cart["id"], key="a-1"))["order"]
    for status in ("READY_FOR_PICKUP", "PICKED_UP"):
        body = await api.data(
            FULFILLMENT_UPDATE,
            {"id": pickup["fulfillments"][0]["id"], "status": status},
            **api.as_staff(SEATTLE),
        )
    back = {"orderId": pickup["id"], "locationId": location_id(PORTLAND),
            "lines": [{"orderLineId": pickup["lines"][0]["id"], "quantity": 1}]}  # fmt: skip
    body = await api.data(RETURN_CREATE, {"input": back}, **api.as_staff(PORTLAND))
    assert body["returnCreate"]["userErrors"] == []
    cart = await create_cart(api, line(5, 1), **api.as_member("m1"))
    assert (await checkout(api, cart["id"], key="a-2", **api.as_member("m1")))["order"]
    till = {"locationId": location_id(BELLEVUE), "lines": [{"variantId": variant_id(1), "quantity": 3}],
            "memberId": gid("Member", "m2"), "idempotencyKey": "till-a-1"}  # fmt: skip
    body = await api.data(STORE_SALE, {"input": till}, **api.as_staff(BELLEVUE))
    assert body["storeSaleRecord"]["userErrors"] == []


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_head_office_sees_sales_of_every_channel_and_location(api: Api):
    await _history(api)
    hq = api.as_role("analyst-hq")
    data = (await api.data(SALES, {**RANGE, "groupBy": ["CHANNEL"]}, **hq))["analytics"]
    assert (data["since"], data["until"], data["locations"]) == (DAY, DAY, None)
    rows = {r["channel"]: r for r in data["sales"]["rows"]}
    assert set(rows) == {"WEB", "STORE"}
    assert (rows["WEB"]["orders"], rows["WEB"]["units"]) == (2, 3)
    assert (rows["STORE"]["orders"], rows["STORE"]["units"]) == (1, 3)
    total = rows["WEB"]["sales"]["amount"]
    assert rows["WEB"]["averageOrderValue"]["amount"] == f"{float(total) / 2:.2f}"
    table = _csv(data["sales"]["csv"])
    assert [(r["channel"], r["orders"], r["units"], r["sales"]) for r in table] == [
        (r["channel"], str(r["orders"]), str(r["units"]), r["sales"]["amount"]) for r in data["sales"]["rows"]
    ]
    by_day = (await api.data(SALES, {**RANGE, "groupBy": ["LOCATION"], "period": "WEEK"}, **hq))["analytics"]
    weeks = {r["period"] for r in by_day["sales"]["rows"]}
    assert weeks == {"2031-03-10"}  # a Monday: its own week
    places = {r["location"]["id"] for r in by_day["sales"]["rows"]}
    assert {location_id(SEATTLE), location_id(BELLEVUE)} <= places
    assert sum(r["units"] for r in by_day["sales"]["rows"]) == 6


async def test_a_store_manager_sees_the_figures_of_their_store_only(api: Api):
    await _history(api)
    manager, by_place = api.as_role("analyst-1"), {**RANGE, "groupBy": ["CHANNEL", "LOCATION"]}
    everywhere = (await api.data(SALES, by_place, **api.as_role("analyst-hq")))["analytics"]["sales"]["rows"]
    assert len(everywhere) > 1  # asked first by head office: no cache hands it to the manager
    data = (await api.data(SALES, by_place, **manager))["analytics"]
    assert data["locations"] == [{"id": location_id(SEATTLE)}]
    rows = data["sales"]["rows"]
    assert [(r["channel"], r["location"]["id"], r["orders"], r["units"]) for r in rows] == [
        ("WEB", location_id(SEATTLE), 1, 2)
    ]
    stock = (await api.data(STOCK, RANGE, **manager))["analytics"]["stock"]["rows"]
    assert {r["location"]["id"] for r in stock} == {location_id(SEATTLE)}
    codes = [e["extensions"]["code"] for e in (await api.gql(LOYALTY, RANGE, **manager))["errors"]]
    assert codes == ["FORBIDDEN"]  # the points liability is no store's figure


async def test_fulfillment_mix_returns_across_channels_and_stock_cover(api: Api):
    await _history(api)
    hq = api.as_role("analyst-hq")
    data = (await api.data(MIX, RANGE, **hq))["analytics"]
    mix = {r["mode"]: (r["orders"], r["units"]) for r in data["fulfillmentMix"]["rows"]}
    assert mix == {"PICKUP": (1, 2), "SHIP": (1, 1), "IN_STORE": (1, 3)}
    assert data["fulfillmentMix"]["pickup"] == "0.3333"  # 2 of 6 units
    returns = {r["channel"]: r for r in data["returns"]["rows"]}
    web = returns["WEB"]
    assert (web["unitsSold"], web["unitsReturned"], web["returnRate"]) == (3, 1, "0.3333")
    assert (web["returnsInStore"], web["returnsElsewhere"], web["crossChannelReturns"]) == (1, 0, 1)
    assert returns["STORE"]["unitsReturned"] == 0
    assert _csv(data["returns"]["csv"])[0]["crossChannelReturns"] in {"0", "1"}
    stock = (await api.data(STOCK, RANGE, **hq))["analytics"]["stock"]
    seattle = [r for r in stock["rows"] if r["location"]["id"] == location_id(SEATTLE) and r["unitsSold"]]
    assert len(seattle) == 1 and seattle[0]["unitsSold"] == 2
    row = seattle[0]
    assert row["sellThrough"] is not None and 0 < float(row["sellThrough"]) <= 1
    assert row["coverDays"] == f"{row['onHand'] / 2:.1f}"  # on hand / 2 units a day
    assert _csv(stock["csv"])[0].keys() >= {"location", "category", "sellThrough", "coverDays"}


async def test_the_points_liability_and_points_per_day(api: Api):
    await _history(api)
    data = (await api.data(LOYALTY, RANGE, **api.as_role("analyst-hq")))["analytics"]["loyalty"]
    assert data["outstandingPoints"] >= sum(p["earned"] for p in data["periods"]) - sum(
        p["spent"] + p["reversed"] for p in data["periods"]
    )
    assert all(p["period"] == DAY for p in data["periods"])
    assert _csv(data["csv"]) == [{k: str(v) for k, v in p.items()} for p in data["periods"]]


async def test_the_range_is_checked_and_defaults_to_the_30_days_to_today(api: Api):
    api.start_clock_at(datetime(2031, 3, 10, 23, 30, tzinfo=UTC))
    hq = api.as_role("analyst-hq")
    data = (await api.data("{ analytics { since until } }", **hq))["analytics"]
    assert (data["since"], data["until"]) == ("2031-02-09", "2031-03-10")
    for bad in (
        {"since": "2031-03-11", "until": "2031-03-10"},
        {"since": "2029-01-01", "until": "2031-03-10"},
    ):
        body = await api.gql(SALES, bad, **hq)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


@pytest.mark.parametrize(
    ("caller", "code"),
    [
        ("anonymous", "UNAUTHENTICATED"),
        ("member", "FORBIDDEN"),
        ("staff of store 1", "FORBIDDEN"),
        ("staff of store 2", "FORBIDDEN"),
        ("support", "FORBIDDEN"),
        ("admin", "FORBIDDEN"),
        ("partner key", "FORBIDDEN"),
        ("integration", "FORBIDDEN"),
        ("order sync", "FORBIDDEN"),
        ("analyst of store 1", None),
        ("analyst hq", None),
    ],
)
async def test_who_may_read_analytics(database_url: str, caller: str, code: str | None):
    async with gateway(database_url, partner_keys=PARTNERS) as api:
        await _answers_by_caller(api, caller, code)


async def _answers_by_caller(api: Api, caller: str, code: str | None) -> None:
    headers = {
        "anonymous": {},
        "member": api.as_member("m1"),
        "staff of store 1": api.as_staff(SEATTLE),
        "staff of store 2": api.as_staff(BELLEVUE),
        "support": api.as_role("support"),
        "admin": api.as_role("admin"),
        "partner key": {"X-API-Key": PARTNER_KEY},
        "integration": api.as_integration(),
        "order sync": api.as_order_sync(),
        "analyst of store 1": api.as_role("analyst-1"),
        "analyst hq": api.as_role("analyst-hq"),
    }[caller]
    body = await api.gql(SALES, RANGE, **headers)
    if code is None:
        assert "errors" not in body and body["data"]["analytics"]["sales"]["rows"] is not None
    else:
        assert [e["extensions"]["code"] for e in body["errors"]] == [code]
        assert body["data"] is None
