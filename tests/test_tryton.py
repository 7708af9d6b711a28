"""Against a real trytond: catalog and stock into the read model, parties, sales."""

from __future__ import annotations

import pytest

from adapters.records import MemberDraft, OrderState
from adapters.resilience import ResiliencePolicy
from adapters.tryton import TrytonConfig, connect
from tests.upstreams.tryton import ADMIN_PASSWORD

PRODUCTS = """
{ products(first: 10, sortKey: TITLE) { nodes {
    title category
    variants { sku title price { amount currencyCode }
      inventory { onHand reserved available location { name } } }
} } }"""


def tryton_upstream(server, **policy):
    config = TrytonConfig(url=server.url, database=server.database, password=ADMIN_PASSWORD)
    return connect(config, ResiliencePolicy(**{"timeout": 10.0, **policy}))


@pytest.fixture
async def erp_api(tryton, make_api):
    upstream = tryton_upstream(tryton)
    api = await make_api(
        upstreams={"tryton": upstream}, catalog="tryton", inventory="tryton", orders="tryton"
    )
    api.erp = tryton
    return api


def by_sku(data):
    return {v["sku"]: (p, v) for p in data["products"]["nodes"] for v in p["variants"]}


async def test_catalog_and_stock_reach_the_read_model(erp_api):
    report = await erp_api.gateway.sync.run_once()
    assert not report.failed
    assert report.products == 3
    body = await erp_api.gql(PRODUCTS)
    assert "extensions" not in body or not body["extensions"].get("warnings")
    skus = by_sku(body["data"])
    assert sorted(skus) == [
        "TR-BNE-OS",
        "TR-JKT-L",
        "TR-JKT-M",
        "TR-JKT-S",
        "TR-PNT-30",
        "TR-PNT-32",
    ]
    product, jacket = skus["TR-JKT-M"]
    assert (product["title"], product["category"]) == ("Tryton Rain Jacket", "Jackets")
    assert jacket["price"] == {"amount": "149.00", "currencyCode": "USD"}
    stock = {lv["location"]["name"]: lv["onHand"] for lv in jacket["inventory"]}
    assert stock["Seattle Pike Place"] == 6
    assert stock["Portland Pearl"] == 3


async def test_a_stock_move_in_the_erp_becomes_a_stock_changed_event(erp_api):
    gateway = erp_api.gateway
    await gateway.sync.run_once()
    events = []

    async def listen():
        async for event in gateway.events.subscribe("stock"):
            events.append(event)

    import asyncio

    listener = asyncio.create_task(listen())
    await asyncio.sleep(0)
    rpc = erp_api.erp.rpc()
    [product] = rpc("product.product", "search", [["code", "=", "TR-BNE-OS"]], 0, 1, None)
    [storage] = rpc("stock.location", "search", [["name", "=", "Seattle Pike Place Storage"]], 0, 1, None)
    [supplier] = rpc("stock.location", "search", [["type", "=", "supplier"]], 0, 1, None)
    moves = rpc(
        "stock.move",
        "create",
        [
            {
                "product": product,
                "from_location": supplier,
                "to_location": storage,
                "quantity": 5,
                "unit": 1,
                "company": 1,
                "unit_price": {"__class__": "Decimal", "decimal": "24.50"},
                "currency": 1,
            }
        ],
    )
    rpc("stock.move", "do", moves)
    rpc.close()
    report = await gateway.sync.run_once()
    assert report.levels_changed == 1
    await asyncio.sleep(0)
    [event] = events
    assert (event.on_hand, event.reason) == (17, "SYNC")
    # Polling again from the watermark re-reads the overlap but changes nothing.
    assert (await gateway.sync.run_once()).levels_changed == 0
    listener.cancel()


async def test_a_price_change_in_the_erp_is_picked_up_from_the_watermark(erp_api):
    await erp_api.gateway.sync.run_once()
    rpc = erp_api.erp.rpc()
    [template] = rpc("product.template", "search", [["code", "=", "TR-PNT"]], 0, 1, None)
    rpc(
        "product.template",
        "write",
        [template],
        {"list_price": {"__class__": "Decimal", "decimal": "79.00"}},
    )
    rpc.close()
    report = await erp_api.gateway.sync.run_once()
    assert 1 <= report.products <= 3  # the changed one, and what the overlap window re-reads
    _, pant = by_sku(await erp_api.data(PRODUCTS))["TR-PNT-32"]
    assert pant["price"]["amount"] == "79.00"


async def test_members_are_parties(tryton):
    upstream = tryton_upstream(tryton)
    members = upstream.members
    [ada] = await members.members_by_emails(["ada@example.com"])
    assert (ada.first_name, ada.last_name, ada.addresses[0].city) == ("Ada", "Lovelace", "Seattle")
    created = await members.upsert_member(MemberDraft("grace@example.com", "Grace", "Hopper"))
    again = await members.upsert_member(MemberDraft("grace@example.com", "Grace", "Brewster Hopper"))
    assert created.key == again.key
    [found] = await members.members_by_keys([created.key])
    assert (found.email, found.last_name) == ("grace@example.com", "Brewster Hopper")
    await upstream.aclose()


CHECKOUT = """
mutation ($cartId: ID!, $key: String!, $buyer: CheckoutBuyerInput) {
  checkoutComplete(cartId: $cartId, payment: {method: CARD, cardToken: "tok_visa"},
                   idempotencyKey: $key, buyer: $buyer) {
    order { id number status } userErrors { field message code }
  }
}"""
CART_CREATE = """
mutation ($input: CartCreateInput!) { cartCreate(input: $input) { cart { id } userErrors { code } } }"""
IDS = "{ products(first: 10) { nodes { variants { id sku } } } }"
ADA = {"email": "ada@example.com", "firstName": "Ada A.", "lastName": "Lovelace-Byron"}


async def variant_ids(api):
    body = await api.data(IDS)
    return {v["sku"]: v["id"] for p in body["products"]["nodes"] for v in p["variants"]}


async def buy(api, variant, quantity, *, key, buyer=ADA, mode="SHIP"):
    line = {"variantId": variant, "quantity": quantity, "fulfillment": {"mode": mode}}
    cart = (await api.data(CART_CREATE, {"input": {"channel": "WEB", "lines": [line]}}))["cartCreate"]
    body = await api.data(CHECKOUT, {"cartId": cart["cart"]["id"], "key": key, "buyer": buyer})
    return body["checkoutComplete"]


async def test_an_order_placed_through_graphql_becomes_one_sale(erp_api):
    gateway = erp_api.gateway
    await gateway.sync.run_once()
    jacket = (await variant_ids(erp_api))["TR-JKT-M"]
    placed = await buy(erp_api, jacket, 2, key="k1")
    assert placed["userErrors"] == []
    reference = f"OMNI-{placed['order']['number']}"
    assert await gateway.outbox.run_once() == 1
    assert await gateway.outbox.run_once() == 0
    rpc = erp_api.erp.rpc()
    [sale] = rpc("sale.sale", "search_read", [["reference", "=", reference]], 0, None, None,
                 ["state", "party.name", "lines.quantity"])  # fmt: skip
    assert sale["state"] in ("confirmed", "processing")
    assert sale["party."]["name"] == "Ada Lovelace"  # the ERP owns the party: never renamed
    assert [ln["quantity"] for ln in sale["lines."]] == [2]
    rpc.close()
    # The ERP confirmed it, and said so: the order keeps the sale's number and state.
    import sqlalchemy as sa

    from adapters.store.tables import orders

    async with erp_api.store.engine.connect() as conn:
        kept = (await conn.execute(sa.select(orders.c.erp_reference, orders.c.erp_state))).one()
    assert kept.erp_reference and kept.erp_state in (OrderState.CONFIRMED.value, OrderState.PROCESSING.value)
    assert (await gateway.sweep()).erp_states_changed == 0  # nothing new in Tryton


async def test_a_sync_keeps_the_allocations_and_the_last_units_are_sold_once(erp_api):
    """6 jackets at Seattle, 3 at Portland: an order for 6, a sync (and the sale reaching the
    ERP), then 6 more are refused, 3 are sold from Portland, and after a sync nothing is left."""
    gateway = erp_api.gateway
    await gateway.sync.run_once()
    jacket = (await variant_ids(erp_api))["TR-JKT-M"]
    assert (await buy(erp_api, jacket, 6, key="a"))["userErrors"] == []
    await gateway.outbox.run_once()
    await gateway.sync.run_once()
    refused = await buy(erp_api, jacket, 6, key="b")
    assert [e["code"] for e in refused["userErrors"]] == ["INSUFFICIENT_STOCK"]
    assert (await buy(erp_api, jacket, 3, key="c"))["userErrors"] == []
    await gateway.outbox.run_once()
    await gateway.sync.run_once()
    _, variant = by_sku(await erp_api.data(PRODUCTS))["TR-JKT-M"]
    levels = {lv["location"]["name"]: (lv["onHand"], lv["reserved"]) for lv in variant["inventory"]}
    assert (levels["Seattle Pike Place"], levels["Portland Pearl"]) == ((6, 6), (3, 3))
    assert [e["code"] for e in (await buy(erp_api, jacket, 1, key="d"))["userErrors"]] == [
        "INSUFFICIENT_STOCK"
    ]


async def test_with_the_forecast_a_pushed_order_counts_once(tryton, make_api):
    config = TrytonConfig(url=tryton.url, database=tryton.database, password=ADMIN_PASSWORD, stock="forecast")
    upstream = connect(config, ResiliencePolicy(timeout=10.0))
    roles = {"catalog": "tryton", "inventory": "tryton", "orders": "tryton"}
    api = await make_api(upstreams={"tryton": upstream}, **roles)
    await api.gateway.sync.run_once()
    jacket = (await variant_ids(api))["TR-JKT-M"]
    assert (await buy(api, jacket, 2, key="a"))["userErrors"] == []
    await api.gateway.outbox.run_once()  # the confirmed sale lowers Tryton's forecast by 2
    await api.gateway.sync.run_once()
    _, variant = by_sku(await api.data(PRODUCTS))["TR-JKT-M"]
    seattle = next(lv for lv in variant["inventory"] if lv["location"]["name"] == "Seattle Pike Place")
    assert (seattle["onHand"], seattle["reserved"], seattle["available"]) == (6, 2, 4)
    await upstream.aclose()


async def test_a_party_without_an_address_is_a_dead_letter_with_its_reason(erp_api):
    gateway = erp_api.gateway
    await gateway.sync.run_once()
    rpc = erp_api.erp.rpc()
    rpc("party.party", "create", [{"name": "Nora Noaddress",
        "contact_mechanisms": [["create", [{"type": "email", "value": "nora@example.com"}]]]}])  # fmt: skip
    rpc.close()
    jacket = (await variant_ids(erp_api))["TR-JKT-M"]
    nora = {"email": "nora@example.com"}
    assert (await buy(erp_api, jacket, 1, key="n", buyer=nora))["userErrors"] == []
    assert await gateway.outbox.run_once() == 0
    [dead] = await gateway.outbox.dead_letters()
    assert "has no address" in dead.last_error and dead.attempts == 1
    # With a shipping address the same party's order goes through.
    nora["shippingAddress"] = {"address1": "2 Main St", "city": "Tacoma", "zip": "98402",
                               "country": "United States", "countryCode": "US"}  # fmt: skip
    assert (await buy(erp_api, jacket, 1, key="n2", buyer=nora))["userErrors"] == []
    assert await gateway.outbox.run_once() == 1


ME = """{ me { firstName lastName phone marketingConsent preferredStore { id }
              addresses { address1 address2 city zip } } }"""
MEMBER_UPDATE = """
mutation ($input: MemberUpdateInput!) {
  memberUpdate(input: $input) { member { firstName lastName phone } userErrors { field code } }
}"""


def an_address(street: str, city: str, zip_code: str, address2: str | None = None) -> dict:
    return {"address1": street, "address2": address2, "city": city, "zip": zip_code,
            "country": "United States", "countryCode": "US"}  # fmt: skip


async def test_member_update_writes_the_party_and_keeps_what_a_party_has_no_place_for(tryton, make_api):
    import sqlalchemy as sa

    from adapters.store.tables import member_profiles
    from tests.commerce import SEATTLE, location_id
    from tests.helpers import bearer
    from tests.test_auth import hs256

    upstream = tryton_upstream(tryton)
    api = await make_api(seeded=True, upstreams={"tryton": upstream}, customers="tryton")
    [ada] = await upstream.members.members_by_emails(["ada@example.com"])
    as_ada = bearer(hs256({"sub": ada.key}))
    changes = {
        "firstName": "Augusta", "lastName": "King", "phone": "+12065550100",
        "marketingConsent": True, "preferredStoreId": location_id(SEATTLE),
        "addresses": [an_address("2 Pine St", "Seattle", "98101", "Apt 4"),
                      an_address("9 Oak Ave", "Portland", "97209")],
    }  # fmt: skip
    payload = (await api.data(MEMBER_UPDATE, {"input": changes}, **as_ada))["memberUpdate"]
    assert payload["userErrors"] == []
    # Written through to the party: the ERP holds the names, the phone and the addresses...
    rpc = tryton.rpc()
    [party] = rpc("party.party", "read", [int(ada.key)], ["name", "phone", "addresses"])
    assert (party["name"], party["phone"]) == ("Augusta King", "+12065550100")
    streets = rpc("party.address", "read", party["addresses"], ["street", "city", "postal_code"])
    assert sorted((a["street"], a["city"], a["postal_code"]) for a in streets) == [
        ("2 Pine St\nApt 4", "Seattle", "98101"), ("9 Oak Ave", "Portland", "97209"),
    ]  # fmt: skip
    # ...and the gateway only what a party has no place for, under the party's key.
    async with api.store.engine.connect() as conn:
        [row] = list(await conn.execute(sa.select(member_profiles)))
    assert (row.member_key, row.phone, row.marketing_consent) == (ada.key, None, True)
    me = (await api.data(ME, **as_ada))["me"]
    assert me == {
        "firstName": "Augusta", "lastName": "King", "phone": "+12065550100", "marketingConsent": True,
        "preferredStore": {"id": location_id(SEATTLE)},
        "addresses": [{"address1": "2 Pine St", "address2": "Apt 4", "city": "Seattle", "zip": "98101"},
                      {"address1": "9 Oak Ave", "address2": None, "city": "Portland", "zip": "97209"}],
    }  # fmt: skip
    # One source per field, no copy: a change made in the ERP is what every channel reads next.
    rpc("party.party", "write", [int(ada.key)], {"name": "Ada King"})
    rpc.close()
    me = (await api.data(ME, **as_ada))["me"]
    assert (me["firstName"], me["lastName"], me["marketingConsent"]) == ("Ada", "King", True)
    # Fewer addresses: the rest are deactivated in the ERP (sales may point at them).
    fewer = {"addresses": [an_address("2 Pine St", "Seattle", "98101")], "phone": ""}
    payload = (await api.data(MEMBER_UPDATE, {"input": fewer}, **as_ada))["memberUpdate"]
    assert payload["userErrors"] == [] and payload["member"]["phone"] is None
    me = (await api.data(ME, **as_ada))["me"]
    assert [a["city"] for a in me["addresses"]] == ["Seattle"]
    # A party the ERP does not know: nothing is written anywhere.
    stranger = bearer(hs256({"sub": "999999"}))
    payload = await api.data(MEMBER_UPDATE, {"input": {"marketingConsent": True}}, **stranger)
    assert [e["code"] for e in payload["memberUpdate"]["userErrors"]] == ["MEMBER_NOT_FOUND"]
    async with api.store.engine.connect() as conn:
        assert await conn.scalar(sa.select(sa.func.count()).select_from(member_profiles)) == 1


async def test_customer_reads_while_the_erp_is_down_answer_upstream_unavailable(tryton, make_api, caplog):
    from tests.commerce import SEATTLE, checkout, create_cart, line
    from tests.helpers import bearer
    from tests.test_auth import hs256

    upstream = tryton_upstream(tryton, read_retries=0, timeout=3.0)
    api = await make_api(seeded=True, upstreams={"tryton": upstream}, customers="tryton")
    [ada] = await upstream.members.members_by_emails(["ada@example.com"])
    as_ada = bearer(hs256({"sub": ada.key}))
    cart = await create_cart(api, line(1, 1, "PICKUP", SEATTLE), **as_ada)
    placed = await checkout(api, cart["id"], **as_ada)
    assert placed["userErrors"] == [], placed["userErrors"]
    order_id = placed["order"]["id"]
    member_of = "query ($id: ID!) { order(id: $id) { id member { email } } }"
    order = (await api.data(member_of, {"id": order_id}, **as_ada))["order"]
    assert order["member"]["email"] == "ada@example.com"

    tryton.stop()
    caplog.clear()
    body = await api.gql(ME, **as_ada)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UPSTREAM_UNAVAILABLE"]
    body = await api.gql(member_of, {"id": order_id}, **as_ada)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UPSTREAM_UNAVAILABLE"]
    assert body["errors"][0]["path"] == ["order", "member"]
    assert body["data"]["order"]["id"] == order_id  # the rest of the order is the gateway's own
    assert not [r for r in caplog.records if r.levelname == "ERROR" or r.exc_info]


def test_the_token_command_finds_members_in_the_erp(tryton, tmp_path):
    import os
    import subprocess
    import sys

    import jwt

    from tests.conftest import JWT_SECRET

    env = {
        **os.environ,
        "GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}",
        "GATEWAY_JWT_SECRET": JWT_SECRET,
        "GATEWAY_CUSTOMERS": "tryton",
        "GATEWAY_TRYTON_URL": tryton.url,
        "GATEWAY_TRYTON_DATABASE": tryton.database,
        "GATEWAY_TRYTON_PASSWORD": ADMIN_PASSWORD,
    }
    from pathlib import Path

    command = [str(Path(sys.executable).parent / "omnigate"), "token", "member"]
    done = subprocess.run([*command, "ada@example.com"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    rpc = tryton.rpc()
    [party] = rpc("party.party", "search", [["name", "=", "Ada Lovelace"]], 0, 1, None)
    rpc.close()
    assert jwt.decode(done.stdout.strip(), JWT_SECRET, algorithms=["HS256"])["sub"] == str(party)
    done = subprocess.run([*command, "nobody@example.com"], env=env, capture_output=True, text=True)
    assert done.returncode != 0 and "tryton has no customer" in done.stderr


async def test_member_login_with_the_erp_as_member_directory_says_why_it_cannot(tryton, make_api):
    login = """mutation ($email: String!, $password: String!) {
      memberLogin(email: $email, password: $password) {
        token member { id } userErrors { code } } }"""
    api = await make_api(seeded=True, upstreams={"tryton": tryton_upstream(tryton)}, customers="tryton")
    # chloe has a password at the gateway (the demo seed), but the ERP's parties are the members.
    variables = {"email": "chloe@example.com", "password": "omnigate-demo"}
    payload = (await api.data(login, variables))["memberLogin"]
    assert payload == {"token": None, "member": None, "userErrors": [{"code": "SIGN_IN_UNAVAILABLE"}]}


async def test_erasure_anonymizes_the_party_and_keeps_it(tryton, make_api):
    """memberErase through the member-directory port: the party stays for its sales, with
    nothing personal left; the gateway forgets what it kept under the party's key."""
    from tests.helpers import bearer
    from tests.test_auth import hs256

    upstream = tryton_upstream(tryton)
    api = await make_api(seeded=True, upstreams={"tryton": upstream}, customers="tryton")
    [ada] = await upstream.members.members_by_emails(["ada@example.com"])
    as_ada = bearer(hs256({"sub": ada.key}))
    changes = {"phone": "+12065550100", "marketingConsent": True,
               "addresses": [an_address("2 Pine St", "Seattle", "98101")]}  # fmt: skip
    assert (await api.data(MEMBER_UPDATE, {"input": changes}, **as_ada))["memberUpdate"]["userErrors"] == []
    erase = "mutation { memberErase { systems { system outcome } userErrors { code } } }"
    payload = (await api.data(erase, **as_ada))["memberErase"]
    assert payload["systems"] == [
        {"system": "memberDirectory", "outcome": "ERASED"}, {"system": "gateway", "outcome": "ERASED"},
    ]  # fmt: skip
    rpc = tryton.rpc()
    [party] = rpc("party.party", "read", [int(ada.key)], ["name", "email", "phone", "addresses"])
    rpc.close()
    assert (party["name"], party["email"], party["phone"], party["addresses"]) == (
        "Erased member",
        "",
        "",
        [],
    )
    assert await upstream.members.members_by_emails(["ada@example.com"]) == []
    me = (await api.data(ME, **as_ada))["me"]
    assert (me["phone"], me["addresses"], me["marketingConsent"]) == (None, [], False)
ORDER_STATE = """
query ($id: ID!) { order(id: $id) { status fulfillments { id status location { id } }
                   statusHistory { reason } lines { id } } }"""
FULFILL = """
mutation ($id: ID!, $status: FulfillmentStatus!) {
  fulfillmentUpdateStatus(fulfillmentId: $id, status: $status) { userErrors { code } }
}"""
RETURN = """
mutation ($input: ReturnInput!) { returnCreate(input: $input) { userErrors { code message } } }"""


def shipments_of(rpc, reference):
    [sale] = rpc("sale.sale", "search_read", [["reference", "=", reference]], 0, None, None,
                 ["shipments", "state", "shipment_state"])  # fmt: skip
    states = [s["state"] for s in rpc("stock.shipment.out", "read", sale["shipments"], ["state"])]
    return sale, states


async def test_shipping_flows_both_ways(erp_api):
    """Ship in the gateway: the sale's shipment is done in Tryton. Ship in Tryton: the order
    ships in the gateway. A return becomes a return sale."""
    gateway = erp_api.gateway
    await gateway.sync.run_once()
    jacket = (await variant_ids(erp_api))["TR-JKT-M"]
    here = await buy(erp_api, jacket, 1, key="here")
    there = await buy(erp_api, jacket, 1, key="there")
    await gateway.outbox.run_once()
    staff = erp_api.as_order_sync()
    order = (await erp_api.data(ORDER_STATE, {"id": here["order"]["id"]}, **staff))["order"]
    [fulfillment] = order["fulfillments"]
    moved = await erp_api.data(FULFILL, {"id": fulfillment["id"], "status": "SHIPPED"}, **staff)
    assert moved["fulfillmentUpdateStatus"]["userErrors"] == []
    assert await gateway.outbox.run_once() == 1
    rpc = erp_api.erp.rpc()
    here_ref, there_ref = (f"OMNI-{p['order']['number']}" for p in (here, there))
    _, states = shipments_of(rpc, here_ref)
    assert states and set(states) == {"done"}

    # Shipped in Tryton by its own staff: the gateway hears it on its next sweep.
    sale, _ = shipments_of(rpc, there_ref)
    if sale["state"] == "confirmed":
        rpc("sale.sale", "process", [sale["id"]])
        sale, _ = shipments_of(rpc, there_ref)
    for shipment in sale["shipments"]:
        for step in ("wait", "assign_force", "pick", "pack", "do"):
            rpc("stock.shipment.out", step, [shipment])
    report = await gateway.sweep()
    assert report.erp_states_changed >= 1
    order = (await erp_api.data(ORDER_STATE, {"id": there["order"]["id"]}, **staff))["order"]
    assert [f["status"] for f in order["fulfillments"]] == ["SHIPPED"]
    assert order["statusHistory"][-1]["reason"] == "shipped in the ERP"
    assert await gateway.outbox.run_once() == 0  # nothing echoed back

    # A return of the first order: a return sale in Tryton, once.
    order = (await erp_api.data(ORDER_STATE, {"id": here["order"]["id"]}, **staff))["order"]
    returned = {"orderId": here["order"]["id"], "locationId": order["fulfillments"][0]["location"]["id"],
                "lines": [{"orderLineId": order["lines"][0]["id"], "quantity": 1}]}  # fmt: skip
    body = await erp_api.data(RETURN, {"input": returned}, **staff)
    assert body["returnCreate"]["userErrors"] == []
    assert await gateway.outbox.run_once() == 1
    [back] = rpc("sale.sale", "search_read", [["reference", "like", f"{here_ref}-R%"]], 0, None, None,
                 ["state", "lines.quantity"])  # fmt: skip
    assert back["state"] in ("confirmed", "processing")
    assert [ln["quantity"] for ln in back["lines."]] == [-1]
    rpc.close()


async def test_a_cancelled_order_cancels_its_shipments_in_tryton(erp_api):
    gateway = erp_api.gateway
    await gateway.sync.run_once()
    jacket = (await variant_ids(erp_api))["TR-JKT-M"]
    placed = await buy(erp_api, jacket, 1, key="c")
    await gateway.outbox.run_once()
    cancel = "mutation ($id: ID!) { orderCancel(orderId: $id) { userErrors { code } } }"
    body = await erp_api.data(cancel, {"id": placed["order"]["id"]}, **erp_api.as_order_sync())
    assert body["orderCancel"]["userErrors"] == []
    assert await gateway.outbox.run_once() == 1
    rpc = erp_api.erp.rpc()
    _, states = shipments_of(rpc, f"OMNI-{placed['order']['number']}")
    rpc.close()
    assert states and set(states) == {"cancelled"}


async def test_products_withdrawn_in_tryton_stop_being_sold(erp_api):
    """Not salable any more, or deactivated: no stock shown, checkout refuses; salable again:
    back on sale with Tryton's stock."""
    gateway = erp_api.gateway
    await gateway.sync.run_once()
    ids = await variant_ids(erp_api)
    rpc = erp_api.erp.rpc()
    [beanie] = rpc("product.template", "search", [["code", "=", "TR-BNE"]], 0, 1, None)
    rpc("product.template", "write", [beanie], {"salable": False})
    [pant] = rpc("product.product", "search", [["code", "=", "TR-PNT-30"]], 0, 1, None)
    try:
        rpc("product.product", "write", [pant], {"active": False})
    except RuntimeError as warning:  # "it still has stock": the integrator confirms
        [admin] = rpc("res.user", "search", [["login", "=", "admin"]], 0, 1, None)
        rpc("res.user.warning", "create", [{"user": admin, "name": warning.args[0][1][0], "always": False}])
        rpc("product.product", "write", [pant], {"active": False})
    await gateway.sync.run_once()
    for sku in ("TR-BNE-OS", "TR-PNT-30"):
        refused = await buy(erp_api, ids[sku], 1, key=f"w-{sku}")
        assert [e["code"] for e in refused["userErrors"]] == ["INSUFFICIENT_STOCK"], sku
        _, variant = by_sku(await erp_api.data(PRODUCTS))[sku]
        assert variant["inventory"] and all(lv["available"] == 0 for lv in variant["inventory"])
    assert (await buy(erp_api, ids["TR-PNT-32"], 1, key="other"))["userErrors"] == []

    rpc("product.template", "write", [beanie], {"salable": True})
    rpc.close()
    await gateway.sync.run_once()
    await gateway.sync.run_once()  # the stock feed reads everything again
    assert (await buy(erp_api, ids["TR-BNE-OS"], 1, key="back"))["userErrors"] == []
