"""Writes made around the gateway: an ERP or a till writing stock and prices straight into the
gateway's PostgreSQL tables is pushed to `stockChanged` subscribers and forgotten by the caches
within a NOTIFY (migration 0011, adapters/store/notifications.py), not after a TTL; the
gateway's own writes are not announced twice."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from gql import GraphQLRequest
from sqlalchemy.ext.asyncio import create_async_engine

from tests.commerce import SEATTLE, location_id, set_stock, variant_id
from tests.conftest import PG_URL
from tests.served import Served, serve

pytestmark = pytest.mark.skipif(not PG_URL, reason="LISTEN/NOTIFY is PostgreSQL's")

VARIANT = 1
STOCK = """
subscription ($locationIds: [ID!]) {
  stockChanged(locationIds: $locationIds) { onHand reserved variant { id } location { id } }
}"""
VARIANT_NOW = """
query ($id: ID!) {
  node(id: $id) { ... on ProductVariant { price { amount } inventory { onHand location { id } } } }
}"""


async def _variant(served: Served) -> tuple[str, int]:
    data = (await served.data(VARIANT_NOW, {"id": variant_id(VARIANT)}))["node"]
    on_hand = next(lv["onHand"] for lv in data["inventory"] if lv["location"]["id"] == location_id(SEATTLE))
    return data["price"]["amount"], on_hand


async def _write_around_the_gateway(url: str, *statements: str) -> None:
    """What an ERP does: its own connection, its own transaction, no gateway in between."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()


async def test_stock_and_prices_written_around_the_gateway_are_pushed_and_not_served_stale(
    tmp_path: Path, postgresql_templates: Any
):
    url = await postgresql_templates.clone()
    # TTLs far longer than the test: only the notification can make the caches forget.
    ttl = {
        f"GATEWAY_{name}_TTL_SECONDS": "3600"
        for name in ("ENTITY_CACHE_STOCK", "ENTITY_CACHE_CATALOG", "RESPONSE_CACHE")
    }
    async with serve(tmp_path, url, **ttl) as served:
        await set_stock(served, VARIANT, SEATTLE, 10)
        price, on_hand = await _variant(served)  # now in the entity and response caches
        assert on_hand == 10
        async with served.client("test-staff-1") as tablet:
            request = GraphQLRequest(STOCK, variable_values={"locationIds": [location_id(SEATTLE)]})
            pushes = tablet.subscribe(request)
            first = asyncio.ensure_future(anext(pushes))
            await served.until_subscribed(1)
            await set_stock(served, VARIANT, SEATTLE, 8)  # the gateway's own write: pushed once, by it
            assert (await asyncio.wait_for(first, 30))["stockChanged"]["onHand"] == 8
            assert await served.metric("omnigate_database_notifications_total") == 0

            await _write_around_the_gateway(
                url,
                "UPDATE inventory_levels SET on_hand = 42, updated_at = now() "
                f"WHERE variant_id = {VARIANT} AND location_id = {SEATTLE}",
            )
            pushed = (await asyncio.wait_for(anext(pushes), 30))["stockChanged"]
            assert (pushed["onHand"], pushed["variant"]["id"]) == (42, variant_id(VARIANT))
            await pushes.aclose()
        assert await served.metric("omnigate_database_notifications_total") == 1
        assert (await _variant(served))[1] == 42  # no cached 8

        await _write_around_the_gateway(url, f"UPDATE variants SET price_minor = 12345 WHERE id = {VARIANT}")
        for _ in range(300):  # the notification arrives on its own connection, soon after the commit
            if (await _variant(served))[0] != price:
                break
            await asyncio.sleep(0.05)
        assert (await _variant(served))[0] == "123.45"


async def test_a_rolled_back_write_is_never_announced(tmp_path: Path, postgresql_templates: Any):
    url = await postgresql_templates.clone()
    async with serve(tmp_path, url) as served:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                transaction = await conn.begin()
                await conn.execute(
                    sa.text(f"UPDATE inventory_levels SET on_hand = 1 WHERE variant_id = {VARIANT}")
                )
                await transaction.rollback()
            await _write_around_the_gateway(url, f"UPDATE variants SET title = title WHERE id = {VARIANT}")
        finally:
            await engine.dispose()
        for _ in range(300):  # the committed one arrives; the rolled-back one never did
            if await served.metric("omnigate_database_notifications_total") >= 1:
                break
            await asyncio.sleep(0.05)
        assert await served.metric("omnigate_database_notifications_total") == 1
