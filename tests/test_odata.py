"""Against SAP's OData mock server: catalog and stock into the read model, partners, orders,
and SAP's habits (CSRF, $batch, paging, ETags)."""

from __future__ import annotations

import json

import httpx
import pytest
import sqlalchemy as sa

from adapters.odata import ODataConfig, ODataPreconditionFailed, connect
from adapters.records import MemberDraft, OrderState
from adapters.resilience import ResiliencePolicy
from adapters.store.tables import inventory_levels, locations, variants
from adapters.store.tables import orders as orders_table
from schema.ids import to_global_id
from tests.upstreams.odata import FOLDER, PLANTS

MOCK = FOLDER / "mock"

PRODUCTS = """
{ products(first: 250) { nodes { handle title category
    variants { sku title price { amount }
      inventory { onHand location { id name } } } } } }"""


def odata_upstream(url, **config):
    return connect(ODataConfig(url=url, plants=PLANTS, **config), ResiliencePolicy(timeout=5.0))


@pytest.fixture
async def sap_api(odata, make_api):
    """A gateway over the demo store whose stock comes from SAP."""
    api = await make_api(
        seeded=True,
        upstreams={"odata": odata_upstream(odata.url)},
        inventory="odata",
        orders="odata",
    )
    api.sap = odata
    return api


async def level(api, sku, code):
    stmt = (
        sa.select(inventory_levels.c.on_hand)
        .join(variants, variants.c.id == inventory_levels.c.variant_id)
        .join(locations, locations.c.id == inventory_levels.c.location_id)
        .where(variants.c.sku == sku, locations.c.code == code)
    )
    async with api.store.reading() as conn:
        return await conn.scalar(stmt)


def sap_stock(material, plant):
    rows = json.loads((MOCK / "API_MATERIAL_STOCK_SRV/data/A_MatlStkInAcctMod.json").read_text())
    return sum(
        int(r["MatlWrhsStkQtyInMatlBaseUnit"])
        for r in rows
        if (r["Material"], r["Plant"], r["InventoryStockType"]) == (material, plant, "01")
    )


async def test_sap_stock_replaces_the_demo_stock_at_mapped_plants(sap_api):
    report = await sap_api.gateway.sync.run_once()
    assert not report.failed and report.levels_changed > 0
    for sku in ("CO-BSL-0001-S-SND", "CO-BSL-0001-XL-SND"):
        for plant, code in (("1010", "SEA-PIKE"), ("1020", "PDX-PEARL"), ("1030", "WH-RNO")):
            assert await level(sap_api, sku, code) == sap_stock(sku, plant)
    body = await sap_api.gql("{ products(first: 1) { nodes { id } } }")
    assert not body.get("extensions", {}).get("warnings")


async def test_a_snapshot_without_changes_publishes_nothing(sap_api):
    await sap_api.gateway.sync.run_once()
    announced = []
    for topic in ("catalog", "stock", "locations"):
        sap_api.gateway.events.listen(topic, announced.append)
    assert (await sap_api.gateway.sync.run_once()).levels_changed == 0
    assert announced == []


async def test_a_stock_change_in_sap_is_found_by_snapshot_diff(sap_api):
    await sap_api.gateway.sync.run_once()
    client = sap_api.gateway.upstreams.inventory.client
    key = (
        "A_MatlStkInAcctMod(Material='CO-BSL-0001-S-SND',Plant='1010',StorageLocation='0001',"
        "Batch='',Supplier='',Customer='',WBSElementInternalID='',SDDocument='',"
        "SDDocumentItem='',InventorySpecialStockType='',InventoryStockType='01')"
    )
    await client.update("API_MATERIAL_STOCK_SRV", key, {"MatlWrhsStkQtyInMatlBaseUnit": "42"}, None)
    report = await sap_api.gateway.sync.run_once()
    assert report.levels_changed == 1
    assert await level(sap_api, "CO-BSL-0001-S-SND", "SEA-PIKE") == 42


async def test_catalog_from_sap_groups_materials_under_their_configurable_product(odata, make_api):
    api = await make_api(upstreams={"odata": odata_upstream(odata.url)}, catalog="odata", inventory="odata")
    report = await api.gateway.sync.run_once()
    assert (report.products, report.failed) == (8, False)
    data = await api.data(PRODUCTS)
    hoody = next(p for p in data["products"]["nodes"] if p["title"] == "Skyline Sun Hoody")
    assert hoody["category"] == "BASELAYER"
    assert [v["sku"] for v in hoody["variants"]] == [
        "CO-BSL-0001-L-SND",
        "CO-BSL-0001-M-SND",
        "CO-BSL-0001-S-SND",
        "CO-BSL-0001-XL-SND",
    ]
    assert hoody["variants"][2]["title"] == "S / Sand"
    # Polling from the watermark re-reads only what changed in SAP since.
    client = api.gateway.upstreams.catalog.client
    await client.update(
        "API_PRODUCT_SRV",
        "A_ProductDescription(Product='CO-BSL-0001',Language='EN')",
        {"ProductDescription": "Skyline Sun Hoody II"},
        None,
    )
    await client.update(
        "API_PRODUCT_SRV",
        "A_Product('CO-BSL-0001')",
        {"LastChangeDateTime": "/Date(1795000000000+0000)/"},
        None,
    )
    calls = api.gateway.upstreams.catalog.guard.calls
    report = await api.gateway.sync.run_once()
    assert report.products == 2  # the changed one, and the last one again (overlap window)
    titles = {p["title"] for p in (await api.data(PRODUCTS))["products"]["nodes"]}
    assert "Skyline Sun Hoody II" in titles
    assert api.gateway.upstreams.catalog.guard.calls - calls <= 5


async def test_business_partners(odata):
    upstream = odata_upstream(odata.url)
    members = upstream.members
    [ada] = await members.members_by_emails(["ada@example.com"])
    assert (ada.key, ada.first_name, ada.addresses[0].city) == ("1000001", "Ada", "Seattle")
    created = await members.upsert_member(MemberDraft("zoe@example.com", "Zoe", "Zhang"))
    updated = await members.upsert_member(MemberDraft("zoe@example.com", "Zoe", "Zhang-Li"))
    assert created.key == updated.key and created.key.isdigit()
    [found] = await members.members_by_keys([created.key])
    assert (found.email, found.last_name) == ("zoe@example.com", "Zhang-Li")
    await upstream.aclose()


CHECKOUT = """
mutation ($cartId: ID!, $key: String!, $buyer: CheckoutBuyerInput) {
  checkoutComplete(cartId: $cartId, payment: {method: CARD, cardToken: "tok_visa"},
                   idempotencyKey: $key, buyer: $buyer) {
    order { id number } userErrors { field message code }
  }
}"""
CART_CREATE = """
mutation ($input: CartCreateInput!) { cartCreate(input: $input) { cart { id } userErrors { code } } }"""
SKUS = """query ($q: String!) { products(first: 1, query: $q) { nodes { variants { id sku } } } }"""


async def test_an_order_placed_through_graphql_is_one_deep_insert_never_duplicated(sap_api):
    await sap_api.gateway.sync.run_once()  # SAP stock at its plants
    body = await sap_api.data(SKUS, {"q": "CO-BSL-0001"})
    ids = {v["sku"]: v["id"] for v in body["products"]["nodes"][0]["variants"]}
    seattle = to_global_id("Location", 1)  # the demo's Seattle store: SAP plant 1010
    lines = [
        {"variantId": ids[sku], "quantity": n, "fulfillment": {"mode": "PICKUP", "locationId": seattle}}
        for sku, n in (("CO-BSL-0001-S-SND", 1), ("CO-BSL-0001-M-SND", 1))
    ]
    cart = await sap_api.data(CART_CREATE, {"input": {"channel": "WEB", "lines": lines}})
    buyer = {"email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace"}
    variables = {"cartId": cart["cartCreate"]["cart"]["id"], "key": "k1", "buyer": buyer}
    placed = (await sap_api.data(CHECKOUT, variables))["checkoutComplete"]
    assert placed["userErrors"] == []
    reference = f"OMNI-{placed['order']['number']}"
    outbox = sap_api.gateway.outbox
    assert await outbox.run_once() == 1
    assert await outbox.run_once() == 0
    sink = sap_api.gateway.upstreams.orders
    orders = await sink.client.get_all(
        "API_SALES_ORDER_SRV", "A_SalesOrder", filter=f"PurchaseOrderByCustomer eq '{reference}'"
    )
    assert len(orders) == 1
    items = await sink.client.get_all(
        "API_SALES_ORDER_SRV", "A_SalesOrderItem", filter=f"SalesOrder eq '{orders[0]['SalesOrder']}'"
    )
    assert sorted((i["Material"], i["ProductionPlant"]) for i in items) == [
        ("CO-BSL-0001-M-SND", "1010"),
        ("CO-BSL-0001-S-SND", "1010"),
    ]
    async with sap_api.store.engine.connect() as conn:
        kept = (await conn.execute(sa.select(orders_table.c.erp_reference, orders_table.c.erp_state))).one()
    assert kept.erp_state == OrderState.CONFIRMED.value and int(kept.erp_reference) > 5000000
    assert (await sap_api.gateway.sweep()).erp_states_changed == 0
    # Delivered in SAP (OverallSDProcessStatus C): the sweeper picks the order up in the gateway.
    path = f"A_SalesOrder('{kept.erp_reference}')"
    await sink.client.update("API_SALES_ORDER_SRV", path, {"OverallSDProcessStatus": "C"}, None)
    assert (await sap_api.gateway.sweep()).erp_states_changed == 1
    staff = sap_api.as_order_sync()
    query = "query ($id: ID!) { order(id: $id) { fulfillments { status } } }"
    order = (await sap_api.data(query, {"id": placed["order"]["id"]}, **staff))["order"]
    assert [f["status"] for f in order["fulfillments"]] == ["PICKED_UP"]


async def test_writes_fetch_a_csrf_token_and_fetch_again_when_it_expires(odata, proxy):
    front = await proxy(odata.url.split("/sap/")[0])
    upstream = odata_upstream(front.url + "/sap/opu/odata/sap")
    await upstream.members.upsert_member(MemberDraft("csrf@example.com", "C", "Srf"))
    upstream.client._tokens["API_BUSINESS_PARTNER"] = "expired"
    await upstream.members.upsert_member(MemberDraft("csrf@example.com", "C", "Srf2"))
    [member] = await upstream.members.members_by_emails(["csrf@example.com"])
    assert member.last_name == "Srf2"
    await upstream.aclose()


async def test_key_lookups_go_in_filter_batches_inside_one_batch_request(odata):
    upstream = odata_upstream(odata.url, keys_per_filter=4)
    skus = [f"CO-BSL-0001-{s}-SND" for s in ("S", "M", "L", "XL")] + ["CO-BSL-0002", "NOPE"]
    calls = upstream.guard.calls
    rows = await upstream.client.get_by_keys("API_PRODUCT_SRV", "A_Product", "Product", skus)
    assert upstream.guard.calls - calls == 1  # two $filter chunks, one $batch round trip
    assert {r["Product"] for r in rows} >= set(skus[:4])
    await upstream.aclose()


async def test_paging_follows_skip_and_top(odata):
    upstream = odata_upstream(odata.url, page_size=7)
    calls = upstream.guard.calls
    rows = await upstream.client.get_all("API_PRODUCT_SRV", "A_Product", select=["Product"])
    assert len(rows) == 31
    assert upstream.guard.calls - calls == 5  # 7+7+7+7+3
    await upstream.aclose()


async def test_an_update_sends_the_etag_and_a_412_is_a_conflict():
    """The mock ignores ETags; this replays SAP's answers (recorded shape) instead."""
    seen = []

    def sap(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.headers.get("if-match"), request.headers.get("x-csrf-token")))
        if request.method == "GET":
            return httpx.Response(200, headers={"x-csrf-token": "tok"}, json={"d": {}})
        if request.headers.get("if-match") == "W/\"datetimeoffset'2026-11-20T10%3A00%3A00Z'\"":
            return httpx.Response(204)
        return httpx.Response(
            412,
            json={
                "error": {
                    "code": "/IWBEP/CM_MGW_RT/022",
                    "message": {"lang": "en", "value": "Precondition failed"},
                }
            },
        )

    upstream = connect(
        ODataConfig(url="http://sap.test/sap/opu/odata/sap"), transport=httpx.MockTransport(sap)
    )
    etag = "W/\"datetimeoffset'2026-11-20T10%3A00%3A00Z'\""
    await upstream.client.update("API_BUSINESS_PARTNER", "A_BusinessPartner('1')", {"LastName": "X"}, etag)
    with pytest.raises(ODataPreconditionFailed, match="Precondition failed"):
        await upstream.client.update(
            "API_BUSINESS_PARTNER", "A_BusinessPartner('1')", {"LastName": "Y"}, 'W/"stale"'
        )
    assert seen[0] == ("GET", None, "Fetch")
    assert seen[1] == ("PATCH", etag, "tok")
    await upstream.aclose()


async def test_v4_envelopes_and_next_links_are_followed():
    """An OData V4 service pages with @odata.nextLink and wraps rows in `value`."""
    pages = {
        "0": {"value": [{"Product": "A"}, {"Product": "B"}],
              "@odata.nextLink": "http://sap.test/sap/opu/odata4/API_PRODUCT/A_Product?$skiptoken=2"},
        "2": {"value": [{"Product": "C"}]},
    }  # fmt: skip

    def sap(request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("$skiptoken", "0")
        return httpx.Response(200, json=pages[token])

    upstream = connect(ODataConfig(url="http://sap.test/sap/opu/odata4"), transport=httpx.MockTransport(sap))
    rows = await upstream.client.get_all("API_PRODUCT", "A_Product", select=["Product"])
    assert [r["Product"] for r in rows] == ["A", "B", "C"]
    await upstream.aclose()


ME = """{ me { email firstName lastName phone marketingConsent preferredStore { id }
              addresses { address1 city zip countryCode } } }"""
MEMBER_UPDATE = """
mutation ($input: MemberUpdateInput!) {
  memberUpdate(input: $input) { member { firstName lastName } userErrors { field code } }
}"""


def an_address(street: str, city: str, zip_code: str) -> dict:
    return {"address1": street, "city": city, "zip": zip_code,
            "country": "United States", "countryCode": "US"}  # fmt: skip


async def test_member_update_patches_the_business_partner_and_keeps_the_rest_at_the_gateway(odata, make_api):
    from adapters.store.tables import member_profiles
    from tests.commerce import PORTLAND, location_id
    from tests.helpers import bearer
    from tests.test_auth import hs256

    upstream = odata_upstream(odata.url)
    api = await make_api(seeded=True, upstreams={"odata": upstream}, customers="odata")
    as_ada = bearer(hs256({"sub": "1000001"}))
    changes = {
        "firstName": "Augusta", "lastName": "King", "phone": "+1 503 555 0101",
        "marketingConsent": True, "preferredStoreId": location_id(PORTLAND),
        "addresses": [an_address("2 Pine St", "Seattle", "98101"),
                      an_address("9 Oak Ave", "Portland", "97209")],
    }  # fmt: skip
    payload = (await api.data(MEMBER_UPDATE, {"input": changes}, **as_ada))["memberUpdate"]
    assert payload["userErrors"] == []
    # In SAP: the partner's names and both addresses (the first rewritten, one created)...
    [partner] = await upstream.client.get_by_keys("API_BUSINESS_PARTNER", "A_BusinessPartner",
                                                  "BusinessPartner", ["1000001"])  # fmt: skip
    assert (partner["FirstName"], partner["LastName"]) == ("Augusta", "King")
    rows = await upstream.client.get_by_keys("API_BUSINESS_PARTNER", "A_BusinessPartnerAddress",
                                             "BusinessPartner", ["1000001"])  # fmt: skip
    assert sorted((r["AddressID"], r["StreetName"]) for r in rows)[0] == ("2001", "2 Pine St")
    assert sorted(r["CityName"] for r in rows) == ["Portland", "Seattle"]
    # ...and at the gateway what the partner has no place for here: phone, consent, store.
    async with api.store.engine.connect() as conn:
        [row] = list(await conn.execute(sa.select(member_profiles)))
    assert (row.member_key, row.phone, row.marketing_consent) == ("1000001", "+1 503 555 0101", True)
    me = (await api.data(ME, **as_ada))["me"]
    assert me == {
        "email": "ada@example.com", "firstName": "Augusta", "lastName": "King", "phone": "+1 503 555 0101",
        "marketingConsent": True, "preferredStore": {"id": location_id(PORTLAND)},
        "addresses": [{"address1": "2 Pine St", "city": "Seattle", "zip": "98101", "countryCode": "US"},
                      {"address1": "9 Oak Ave", "city": "Portland", "zip": "97209", "countryCode": "US"}],
    }  # fmt: skip
    # Down to one address: the extra one is deleted in SAP; the email stays where it was.
    fewer = {"addresses": [an_address("9 Oak Ave", "Portland", "97209")]}
    assert (await api.data(MEMBER_UPDATE, {"input": fewer}, **as_ada))["memberUpdate"]["userErrors"] == []
    me = (await api.data(ME, **as_ada))["me"]
    assert (me["email"], [a["city"] for a in me["addresses"]]) == ("ada@example.com", ["Portland"])
    rows = await upstream.client.get_by_keys("API_BUSINESS_PARTNER", "A_BusinessPartnerAddress",
                                             "BusinessPartner", ["1000001"])  # fmt: skip
    assert [r["AddressID"] for r in rows] == ["2001"]


async def test_a_member_read_while_sap_is_down_answers_upstream_unavailable(odata, proxy, make_api, caplog):
    from tests.helpers import bearer
    from tests.test_auth import hs256

    front = await proxy(odata.url.split("/sap/")[0])
    upstream = odata_upstream(front.url + "/sap/opu/odata/sap")
    api = await make_api(seeded=True, upstreams={"odata": upstream}, customers="odata")
    as_ada = bearer(hs256({"sub": "1000001"}))
    assert (await api.data("{ me { lastName } }", **as_ada))["me"]["lastName"]
    front.status = 503
    caplog.clear()
    body = await api.gql("{ me { lastName } }", **as_ada)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UPSTREAM_UNAVAILABLE"]
    assert not [r for r in caplog.records if r.levelname == "ERROR" or r.exc_info]
async def test_sap_snapshots_never_undo_an_allocation(sap_api):
    """SAP's stock feed is a full snapshot every poll: the gateway's allocations stay."""
    await sap_api.gateway.sync.run_once()
    body = await sap_api.data(SKUS, {"q": "CO-BSL-0001"})
    variant = next(
        v["id"] for v in body["products"]["nodes"][0]["variants"] if v["sku"] == "CO-BSL-0001-S-SND"
    )
    seattle = to_global_id("Location", 1)
    on_hand = sap_stock("CO-BSL-0001-S-SND", "1010")
    assert on_hand >= 2
    line = {
        "variantId": variant,
        "quantity": on_hand - 1,
        "fulfillment": {"mode": "PICKUP", "locationId": seattle},
    }
    buyer = {"email": "ada@example.com"}

    async def buy(key, quantity):
        cart = await sap_api.data(
            CART_CREATE, {"input": {"channel": "WEB", "lines": [{**line, "quantity": quantity}]}}
        )
        variables = {"cartId": cart["cartCreate"]["cart"]["id"], "key": key, "buyer": buyer}
        return (await sap_api.data(CHECKOUT, variables))["checkoutComplete"]

    assert (await buy("a", on_hand - 1))["userErrors"] == []
    await sap_api.gateway.sync.run_once()
    await sap_api.gateway.sync.run_once()
    assert [e["code"] for e in (await buy("b", 2))["userErrors"]] == ["INSUFFICIENT_STOCK"]
    assert (await buy("c", 1))["userErrors"] == []
