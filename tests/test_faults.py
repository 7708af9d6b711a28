"""When the ERP is down, slow or failing: reads keep coming from the read model with
`extensions.warnings`, and an order placed meanwhile reaches the ERP exactly once."""

from __future__ import annotations

import asyncio

from adapters.errors import CircuitOpen
from adapters.odata import ODataConfig
from adapters.odata import connect as connect_odata
from adapters.resilience import ResiliencePolicy
from tests.test_tryton import PRODUCTS, tryton_upstream
from tests.upstreams.odata import PLANTS

LISTING = "{ products(first: 5) { nodes { title variants { sku quantityAvailable } } } }"


CART_CREATE = """
mutation ($input: CartCreateInput!) { cartCreate(input: $input) { cart { id } userErrors { code } } }"""
CHECKOUT = """
mutation ($cartId: ID!, $key: String!, $buyer: CheckoutBuyerInput) {
  checkoutComplete(cartId: $cartId, payment: {method: CARD, cardToken: "tok_visa"},
                   idempotencyKey: $key, buyer: $buyer) {
    order { number } userErrors { field message code }
  }
}"""
SKUS = "query ($q: String!) { products(first: 5, query: $q) { nodes { variants { id sku } } } }"
ADA = {"email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace"}


async def place(api, sku):
    """A shopper's order through GraphQL; checkout itself writes the ERP's message. Returns
    the order's reference at the ERP."""
    body = await api.data(SKUS, {"q": sku.rsplit("-", 1)[0]})
    [variant] = [v["id"] for p in body["products"]["nodes"] for v in p["variants"] if v["sku"] == sku]
    line = {"variantId": variant, "quantity": 1}
    cart = (await api.data(CART_CREATE, {"input": {"channel": "WEB", "lines": [line]}}))["cartCreate"]
    variables = {"cartId": cart["cart"]["id"], "key": sku, "buyer": ADA}
    placed = (await api.data(CHECKOUT, variables))["checkoutComplete"]
    assert placed["userErrors"] == [], placed["userErrors"]
    return f"OMNI-{placed['order']['number']}"


def warnings_of(body):
    return body.get("extensions", {}).get("warnings", [])


async def test_erp_stopped_mid_run_reads_go_on_and_the_order_arrives_once(tryton, make_api):
    upstream = tryton_upstream(tryton, timeout=3.0, read_retries=1, backoff=0.01,
                               breaker_threshold=3, breaker_reset=0.5)  # fmt: skip
    api = await make_api(
        upstreams={"tryton": upstream}, catalog="tryton", inventory="tryton", orders="tryton"
    )
    gateway = api.gateway
    assert not (await gateway.sync.run_once()).failed
    before = await api.gql(PRODUCTS)
    assert warnings_of(before) == []
    synced_at = gateway.sync.statuses["stock"].synced_at

    tryton.stop()  # the ERP goes away
    report = await gateway.sync.run_once()
    assert report.failed
    body = await api.gql(PRODUCTS)
    assert body["data"] == before["data"]  # served from the read model
    stale = {w["data"]: w for w in warnings_of(body)}
    assert set(stale) == {"catalog", "inventory"}
    assert stale["inventory"]["since"] == synced_at.isoformat()
    assert stale["inventory"]["upstream"] == "tryton"

    reference = await place(api, "TR-JKT-M")  # checkout needs no ERP: the read model's stock
    assert await gateway.outbox.run_once() == 0  # the ERP is down: kept, retried later
    assert await gateway.outbox.pending() == 1
    for _ in range(3):  # enough failures to open the circuit
        await gateway.sync.run_once()
    assert upstream.guard.health.breaker == "opened"
    calls = upstream.guard.calls
    await gateway.sync.run_once()
    assert upstream.guard.calls == calls  # an open circuit does not even try
    assert "circuit open" in warnings_of(await api.gql(LISTING))[0]["message"]

    tryton.start()  # back, same port, same database
    await asyncio.sleep(0.6)  # past the breaker's reset: the next call is the trial
    assert not (await gateway.sync.run_once()).failed
    assert warnings_of(await api.gql(PRODUCTS)) == []
    await _deliver_all(gateway)
    await _deliver_all(gateway)  # nothing left, nothing sent twice
    rpc = tryton.rpc()
    assert rpc("sale.sale", "search_count", [["reference", "=", reference]]) == 1
    rpc.close()


async def _deliver_all(gateway):
    from datetime import UTC, datetime

    import sqlalchemy as sa

    from adapters.store.tables import outbox

    # Backoff put the row in the future; a test does not wait for it.
    async with gateway.store.writing() as conn:
        await conn.execute(sa.update(outbox).values(available_at=datetime.now(UTC)))
    await gateway.outbox.run_once()
    assert await gateway.outbox.pending() == 0


def sap_via(proxy, **policy):
    config = ODataConfig(url=proxy.url + "/sap/opu/odata/sap", plants=PLANTS)
    base = {"timeout": 0.5, "read_retries": 2, "backoff": 0.01, "breaker_threshold": 100}
    return connect_odata(config, ResiliencePolicy(**{**base, **policy}))


async def test_an_erp_slower_than_the_timeout_is_treated_as_down(odata, proxy, make_api):
    front = await proxy(odata.url.split("/sap/")[0])
    upstream = sap_via(front)
    api = await make_api(seeded=True, upstreams={"odata": upstream}, inventory="odata")
    assert not (await api.gateway.sync.run_once()).failed
    front.delay = 1.0  # twice the timeout
    started = asyncio.get_running_loop().time()
    assert (await api.gateway.sync.run_once()).failed
    elapsed = asyncio.get_running_loop().time() - started
    assert elapsed < 3 * 0.5 + 1.0  # three attempts, each cut at the timeout
    assert upstream.guard.calls >= 3
    body = await api.gql(LISTING)
    assert body["data"]["products"]["nodes"]
    [warning] = warnings_of(body)
    assert "did not answer within 0.5 s" in warning["message"]
    front.delay = 0
    assert not (await api.gateway.sync.run_once()).failed
    assert warnings_of(await api.gql(LISTING)) == []


async def test_500s_are_retried_then_open_the_circuit(odata, proxy, make_api):
    front = await proxy(odata.url.split("/sap/")[0])
    upstream = sap_via(front, breaker_threshold=4, breaker_reset=0.3)
    api = await make_api(seeded=True, upstreams={"odata": upstream}, inventory="odata")
    await api.gateway.sync.run_once()
    front.status = 500
    seen = front.requests
    assert (await api.gateway.sync.run_once()).failed
    assert front.requests - seen == 3  # one read, retried twice
    await api.gateway.sync.run_once()  # the fourth failure opens the circuit
    assert upstream.guard.health.breaker == "opened"
    seen = front.requests
    try:
        await upstream.stock.stock_changes(None)
    except CircuitOpen:
        pass
    else:
        raise AssertionError("an open circuit must refuse")
    assert front.requests == seen
    front.status = None
    await asyncio.sleep(0.35)
    assert not (await api.gateway.sync.run_once()).failed
    assert upstream.guard.health.breaker == "closed"


async def test_a_lost_answer_does_not_duplicate_the_order(odata, proxy, make_api):
    """SAP created the order but the gateway never heard: the retry finds it by its key."""
    front = await proxy(odata.url.split("/sap/")[0])
    upstream = sap_via(front, timeout=5.0)
    api = await make_api(seeded=True, upstreams={"odata": upstream}, orders="odata")
    reference = await place(api, "CO-BSL-0001-S-SND")
    front.lose_responses = True
    assert await api.gateway.outbox.run_once() == 0
    front.lose_responses = False
    await _deliver_all(api.gateway)
    found = await upstream.client.get_all(
        "API_SALES_ORDER_SRV", "A_SalesOrder", filter=f"PurchaseOrderByCustomer eq '{reference}'"
    )
    assert len(found) == 1
