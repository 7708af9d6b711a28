"""Two gateway processes' caches over one Redis: shared answers, and staleness that travels."""

import asyncio
import os
import uuid
from contextlib import AsyncExitStack

import httpx
import pytest
import pytest_asyncio

from gateway.app import create_app
from schema.ids import to_global_id
from tests.conftest import Api, make_settings

REDIS_URL = os.environ.get("GATEWAY_TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="GATEWAY_TEST_REDIS_URL is not set")

VARIANT, STORE = to_global_id("ProductVariant", 1), to_global_id("Location", 1)
STOCK = f'{{ node(id: "{VARIANT}") {{ ... on ProductVariant {{ quantityAvailable }} }} }}'
ADJUST = f"""
mutation {{ inventoryAdjust(input: {{reason: RECEIPT, changes: [
  {{variantId: "{VARIANT}", locationId: "{STORE}", delta: 3}}]}}) {{ userErrors {{ code }} }} }}
"""


@pytest_asyncio.fixture
async def two_gateways(database_url):
    prefix = f"omnigate-test-{uuid.uuid4().hex[:8]}:"
    async with AsyncExitStack() as stack:
        apis = []
        for _ in range(2):
            app = create_app(make_settings(database_url, redis_url=REDIS_URL, redis_prefix=prefix))
            app.state.gateway.shared_cache.poll_interval = 0.05
            await stack.enter_async_context(app.router.lifespan_context(app))
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test")
            await stack.enter_async_context(client)
            apis.append(Api(app, client))
        yield apis


async def quantity_and_reads(api):
    before = api.store.statements
    body = (await api.post(STOCK)).json()
    return body["data"]["node"]["quantityAvailable"], api.store.statements - before


async def test_an_answer_computed_by_one_process_serves_the_other(two_gateways):
    a, b = two_gateways
    quantity, reads = await quantity_and_reads(a)
    assert reads > 0
    await asyncio.sleep(0.1)  # the shared write is in the background
    again, reads_b = await quantity_and_reads(b)
    assert (again, reads_b) == (quantity, 0)


async def test_an_event_in_one_process_makes_the_other_fresh(two_gateways):
    a, b = two_gateways
    before, _ = await quantity_and_reads(b)
    await quantity_and_reads(b)  # cached in b now
    body = await a.gql(ADJUST, **a.as_integration())
    assert body["data"]["inventoryAdjust"]["userErrors"] == []
    for _ in range(40):  # within a few poll intervals
        quantity, _ = await quantity_and_reads(b)
        if quantity == before + 3:
            break
        await asyncio.sleep(0.05)
    assert quantity == before + 3
