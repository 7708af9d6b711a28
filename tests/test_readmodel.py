"""The read model on SQLite and PostgreSQL: upstream records adopt the rows the gateway already
has (by SKU and location code), add the ones it has not, and only real changes are written and
announced."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from adapters.memory import MemoryData
from adapters.memory import connect as connect_memory
from adapters.ports.feeds import UpstreamLevel, UpstreamLocation, UpstreamProduct, UpstreamVariant
from adapters.records import LocationKind, Money, SelectedOption
from gateway.app import create_app
from tests.conftest import Api, make_settings

QUERY = """
query ($q: String!) { products(first: 5, query: $q) { nodes { handle title
  variants { sku title price { amount } inventory { onHand location { name } } } } } }"""


def erp_data():
    return MemoryData(
        products=[
            UpstreamProduct(
                "T-1",
                "Skyline Sun Hoody (ERP)",
                "From the ERP",
                "Base Layers",
                "Cascade",
                (
                    UpstreamVariant(
                        "V-1",
                        "CO-BSL-0001-S-SND",
                        "S / Sand",
                        (SelectedOption("Size", "S"),),
                        Money(Decimal("59.00"), "USD"),
                    ),
                ),
            ),
            UpstreamProduct(
                "T-2",
                "Harbor Rain Shell",
                "",
                "Jackets",
                "Cascade",
                (
                    UpstreamVariant(
                        "V-2",
                        "ERP-SHELL-M",
                        "M",
                        (SelectedOption("Size", "M"),),
                        Money(Decimal("120.00"), "USD"),
                    ),
                ),
            ),
        ],
        locations=[
            UpstreamLocation("W-1", "SEA-PIKE", "ERP name for Pike", LocationKind.STORE),
            UpstreamLocation("W-9", "ERP-DC", "ERP Distribution Center", LocationKind.WAREHOUSE),
        ],
        levels=[
            UpstreamLevel("CO-BSL-0001-S-SND", "SEA-PIKE", 31),
            UpstreamLevel("ERP-SHELL-M", "ERP-DC", 7),
            UpstreamLevel("NOT-IN-CATALOG", "ERP-DC", 3),
        ],
    )


@pytest.fixture
async def erp(database_url):
    upstream = connect_memory(erp_data())
    settings = make_settings(
        database_url, catalog="memory", inventory="memory", sync_interval_s=0, outbox_interval_s=0
    )
    app = create_app(settings, upstreams={"memory": upstream})
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            api = Api(app, client)
            api.upstream = upstream
            yield api


async def test_upstream_rows_adopt_existing_ones_and_add_new_ones(erp):
    report = await erp.gateway.sync.run_once()
    assert not report.failed and report.products == 2
    [hoody] = (await erp.data(QUERY, {"q": "CO-BSL-0001"}))["products"]["nodes"]
    assert (hoody["handle"], hoody["title"]) == ("skyline-sun-hoody", "Skyline Sun Hoody (ERP)")
    small = next(v for v in hoody["variants"] if v["sku"] == "CO-BSL-0001-S-SND")
    assert small["price"]["amount"] == "59.00"
    names = {lv["location"]["name"] for lv in small["inventory"]}
    assert "ERP name for Pike" not in names  # the store keeps the name shoppers know
    assert 31 in {lv["onHand"] for lv in small["inventory"]}
    [shell] = (await erp.data(QUERY, {"q": "Harbor"}))["products"]["nodes"]
    assert shell["handle"] == "harbor-rain-shell"
    assert shell["variants"][0]["inventory"] == [
        {"onHand": 7, "location": {"name": "ERP Distribution Center"}}
    ]


async def test_catalog_writes_are_announced_for_caches_to_forget(erp):
    import asyncio

    events = []

    async def listen():
        async for event in erp.gateway.events.subscribe("catalog"):
            events.append(event)

    listener = asyncio.create_task(listen())
    await asyncio.sleep(0)
    await erp.gateway.sync.run_once()
    await asyncio.sleep(0)
    [event] = events
    assert len(event.product_ids) == 2 and event.reason == "SYNC"
    listener.cancel()


async def test_only_real_changes_are_written_and_announced(erp):
    gateway = erp.gateway
    announced = []
    for topic in ("catalog", "stock", "locations"):
        gateway.events.listen(topic, announced.append)
    first = await gateway.sync.run_once()
    assert first.levels_changed == 2  # the unknown SKU waits for the catalog
    published = len(announced)
    assert (await gateway.sync.run_once()).levels_changed == 0
    assert len(announced) == published + 1  # the catalog poll's CatalogChanged only
    erp.upstream.data.levels[1] = UpstreamLevel("ERP-SHELL-M", "ERP-DC", 5)
    assert (await gateway.sync.run_once()).levels_changed == 1
    assert len(announced) == published + 3


async def test_a_location_added_in_the_erp_after_start_is_picked_up_and_announced(erp):
    gateway = erp.gateway
    await gateway.sync.run_once()
    names = "{ locations(first: 50) { nodes { name } } }"
    before = {n["name"] for n in (await erp.data(names))["locations"]["nodes"]}  # caches warm
    assert "ERP Outlet" not in before
    announced = []
    gateway.events.listen("locations", announced.append)
    erp.upstream.data.locations.append(UpstreamLocation("W-12", "ERP-OUT", "ERP Outlet", LocationKind.STORE))
    erp.upstream.data.levels.append(UpstreamLevel("ERP-SHELL-M", "ERP-OUT", 4))
    report = await gateway.sync.run_once()
    assert report.levels_changed == 1
    after = {n["name"] for n in (await erp.data(names))["locations"]["nodes"]}
    assert after == before | {"ERP Outlet"}
    [event] = announced
    assert (event.topic, event.reason, len(event.location_ids)) == ("locations", "SYNC", 1)
    [shell] = (await erp.data(QUERY, {"q": "Harbor"}))["products"]["nodes"]
    stock = {lv["location"]["name"]: lv["onHand"] for lv in shell["variants"][0]["inventory"]}
    assert stock == {"ERP Distribution Center": 7, "ERP Outlet": 4}
    assert (await gateway.sync.run_once()).levels_changed == 0 and len(announced) == 1


STOCK = """
query ($q: String!) { products(first: 1, query: $q) { nodes {
  variants { id inventory { onHand reserved available location { name } } } } } }"""


async def _shell(erp):
    [product] = (await erp.data(STOCK, {"q": "Harbor"}))["products"]["nodes"]
    return product["variants"][0]


async def test_no_sync_undoes_an_allocation(erp):
    """3 in stock at the ERP; an order for 2; the ERP syncs (a full snapshot, unchanged); an
    order for 3 is refused: the gateway's allocation survived the sync."""
    from tests.commerce import checkout, create_cart

    gateway = erp.gateway
    erp.upstream.data.levels[1] = UpstreamLevel("ERP-SHELL-M", "ERP-DC", 3)
    await gateway.sync.run_once()
    shell = await _shell(erp)
    line = {"variantId": shell["id"], "quantity": 2}
    first = await checkout(erp, (await create_cart(erp, line, lean=True))["id"], lean=True)
    assert first["userErrors"] == []
    # The ERP's figure moves underneath (a receipt elsewhere, then back): written each time.
    erp.upstream.data.levels[1] = UpstreamLevel("ERP-SHELL-M", "ERP-DC", 4)
    await gateway.sync.run_once()
    erp.upstream.data.levels[1] = UpstreamLevel("ERP-SHELL-M", "ERP-DC", 3)
    await gateway.sync.run_once()
    [level] = (await _shell(erp))["inventory"]
    assert (level["onHand"], level["reserved"], level["available"]) == (3, 2, 1)
    line = {"variantId": shell["id"], "quantity": 3}
    second = await checkout(erp, (await create_cart(erp, line, lean=True))["id"], key="k2", lean=True)
    assert [e["code"] for e in second["userErrors"]] == ["INSUFFICIENT_STOCK"]
    line = {"variantId": shell["id"], "quantity": 1}
    third = await checkout(erp, (await create_cart(erp, line, lean=True))["id"], key="k3", lean=True)
    assert third["userErrors"] == []
