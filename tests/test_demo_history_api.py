"""The demo retailer's past orders: on a first start, recommendations (with their reasons),
loyalty tiers and order history show something; seeding stays deterministic in shape."""

from datetime import UTC, datetime

from adapters.store.demo import demo_catalog
from adapters.store.demo_history import BUYERS, demo_history
from tests.conftest import make_settings, serving

ME = """{ me { orders(first: 50) { edges { node { id status channel } } }
  loyalty { points tier }
  recommendedProducts(first: 5) { reason product { id } } } }"""


def test_the_history_is_consistent_and_recent():
    catalog = demo_catalog()
    now = datetime(2026, 12, 1, tzinfo=UTC)
    past = demo_history(catalog.products, catalog.variants, catalog.locations, now, "USD")
    assert len(past.orders) == sum(n for _, n in BUYERS)
    order_ids = {o["id"] for o in past.orders}
    assert {ln["order_id"] for ln in past.order_lines} == order_ids
    assert all(o["created_at"] < now for o in past.orders)
    totals = {o["id"]: o["total_minor"] for o in past.orders}
    for payment in past.payments:
        assert payment["amount_minor"] == totals[payment["order_id"]]
    assert not [o for o in past.orders if o["member_id"] == "m2"]


async def test_a_first_start_shows_history_tiers_and_recommendations(empty_database_url: str):
    settings = make_settings(empty_database_url, loyalty_tiers={"SILVER": 1})
    async with serving(settings.model_copy(update={"seed_demo": True})) as api:
        ana = (await api.data(ME, **api.as_member("m1")))["me"]
        assert len(ana["orders"]["edges"]) == dict(BUYERS)["m1"]
        assert {e["node"]["status"] for e in ana["orders"]["edges"]} == {"FULFILLED"}
        assert ana["loyalty"]["points"] > 0 and ana["loyalty"]["tier"] == "SILVER"
        assert len(ana["recommendedProducts"]) == 5
        assert ana["recommendedProducts"][0]["reason"] in ("BOUGHT_TOGETHER", "YOUR_CATEGORIES")
        ben = (await api.data(ME, **api.as_member("m2")))["me"]
        assert ben["orders"]["edges"] == [] and ben["loyalty"]["points"] == 0
        assert [r["reason"] for r in ben["recommendedProducts"]] == ["POPULAR"] * 5
