"""inventoryAdjust through the API: who may, what it changes, what it records, and atomicity."""

import asyncio

import sqlalchemy as sa

from adapters.store.tables import inventory_adjustments
from schema.ids import to_global_id

ADJUST = """
mutation ($input: InventoryAdjustInput!) {
  inventoryAdjust(input: $input) {
    inventoryLevels { onHand reserved available variant { id quantityAvailable } location { id } }
    userErrors { field message code }
  }
}"""

LEVEL = """
query ($variant: ID!, $location: ID!) {
  node(id: $variant) {
    ... on ProductVariant { inventory(locationIds: [$location]) { onHand available } }
  }
}"""

VARIANT, STORE, OTHER_STORE = (
    to_global_id("ProductVariant", 1),
    to_global_id("Location", 1),
    to_global_id("Location", 2),
)


def change(variant=VARIANT, location=STORE, **amount):
    return {"variantId": variant, "locationId": location, **amount}


async def on_hand(api, variant=VARIANT, location=STORE):
    data = await api.data(LEVEL, {"variant": variant, "location": location})
    return data["node"]["inventory"][0]["onHand"]


async def adjust(api, *changes, reason="RECEIPT", reference=None):
    variables = {"input": {"reason": reason, "reference": reference, "changes": list(changes)}}
    return await api.gql(ADJUST, variables, **api.as_integration())


async def ledger(api):
    async with api.store.engine.connect() as conn:
        return (await conn.execute(sa.select(inventory_adjustments).order_by("id"))).all()


async def test_anonymous_callers_cannot_adjust(api):
    before = await on_hand(api)
    body = await api.gql(ADJUST, {"input": {"reason": "RECEIPT", "changes": [change(delta=5)]}})
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    assert await on_hand(api) == before


async def test_a_receipt_adds_and_is_recorded_with_its_reason(api):
    before = await on_hand(api)
    body = await adjust(api, change(delta=7), reason="RECEIPT", reference="ASN-1001")
    payload = body["data"]["inventoryAdjust"]
    assert payload["userErrors"] == []
    [level] = payload["inventoryLevels"]
    assert level["onHand"] == before + 7
    assert level["available"] == before + 7
    assert await on_hand(api) == before + 7
    [entry] = await ledger(api)
    assert (entry.delta, entry.on_hand_after, entry.reason) == (7, before + 7, "RECEIPT")
    assert (entry.reference, entry.actor) == ("ASN-1001", "integration")


async def test_a_count_sets_on_hand_and_records_the_difference(api):
    before = await on_hand(api)
    body = await adjust(api, change(onHand=3), reason="CYCLE_COUNT")
    assert body["data"]["inventoryAdjust"]["userErrors"] == []
    assert await on_hand(api) == 3
    [entry] = await ledger(api)
    assert (entry.delta, entry.on_hand_after, entry.reason) == (3 - before, 3, "CYCLE_COUNT")


async def test_the_payload_shows_stock_after_the_change(api):
    quantity = """query ($id: ID!) { node(id: $id) { ... on ProductVariant { quantityAvailable } } }"""
    total = (await api.data(quantity, {"id": VARIANT}))["node"]["quantityAvailable"]
    body = await adjust(api, change(delta=4))
    [level] = body["data"]["inventoryAdjust"]["inventoryLevels"]
    assert level["variant"]["quantityAvailable"] == total + 4


async def test_one_bad_line_rejects_the_whole_adjustment(api):
    first, second = await on_hand(api, location=STORE), await on_hand(api, location=OTHER_STORE)
    body = await adjust(api, change(delta=5), change(location=OTHER_STORE, delta=-(second + 1)))
    payload = body["data"]["inventoryAdjust"]
    assert payload["inventoryLevels"] == []
    [error] = payload["userErrors"]
    assert error["code"] == "NEGATIVE_ON_HAND"
    assert error["field"] == ["input", "changes", "1"]
    assert await on_hand(api, location=STORE) == first
    assert await on_hand(api, location=OTHER_STORE) == second
    assert await ledger(api) == []


async def test_unknown_variant_and_malformed_lines_are_user_errors(api):
    missing = to_global_id("ProductVariant", 999999)
    body = await adjust(api, change(variant=missing, delta=1))
    assert [e["code"] for e in body["data"]["inventoryAdjust"]["userErrors"]] == ["VARIANT_NOT_FOUND"]
    body = await adjust(api, change(delta=1, onHand=4), change(onHand=-2))
    errors = body["data"]["inventoryAdjust"]["userErrors"]
    assert [e["code"] for e in errors] == ["INVALID", "INVALID"]
    assert errors[1]["field"] == ["input", "changes", "1", "onHand"]
    assert await ledger(api) == []


async def test_a_foreign_id_is_a_protocol_error(api):
    body = await adjust(api, change(variant=STORE, delta=1))
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


async def test_concurrent_receipts_all_count(api):
    before = await on_hand(api)
    results = await asyncio.gather(*(adjust(api, change(delta=1)) for _ in range(20)))
    assert all(r["data"]["inventoryAdjust"]["userErrors"] == [] for r in results)
    assert await on_hand(api) == before + 20
    assert len(await ledger(api)) == 20


async def test_each_changed_level_is_published_on_the_event_bus(api):
    received = []

    async def listen():
        async for event in api.gateway.events.subscribe("stock"):
            received.append(event)
            if len(received) == 2:
                return

    listener = asyncio.create_task(listen())
    await asyncio.sleep(0)
    await adjust(api, change(delta=2), change(location=OTHER_STORE, onHand=9), reason="RFID_SCAN")
    await asyncio.wait_for(listener, 5)
    assert {(e.variant_id, e.location_id, e.reason) for e in received} == {
        (1, 1, "RFID_SCAN"),
        (1, 2, "RFID_SCAN"),
    }
    assert next(e for e in received if e.location_id == 2).on_hand == 9
