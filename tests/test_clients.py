"""Clients and tools no one here wrote, pinned, against one real `omnigate serve` for the module:
graphql-js's standard introspection, Apollo Client, urql and graphql-sse (tests/js/clients.mjs),
@graphql-codegen/cli from the live endpoint with the README's scalar mapping, and Python's gql
over HTTP and websockets with the schema fetched from the server."""

from __future__ import annotations

import asyncio
import json
import os
from asyncio.subprocess import PIPE
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from gql import Client, GraphQLRequest, gql
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport
from graphql import GraphQLSchema

from tests.commerce import SEATTLE, location_id, variant_id
from tests.conftest import INTEGRATION_TOKEN, SqliteTemplates
from tests.served import Served, serve
from tests.servers import JS, need, need_node_tools

pytestmark = pytest.mark.asyncio(loop_scope="module")

LISTING = "query Listing { products(first: 2) { nodes { title priceRange { minVariantPrice { amount } } } } }"
STOCK = "subscription ($l: [ID!]) { stockChanged(locationIds: $l) { onHand updatedAt } }"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def served(
    tmp_path_factory: pytest.TempPathFactory, sqlite_templates: SqliteTemplates
) -> AsyncIterator[Served]:
    # The quick start's mode (the embedded database runs in dev mode: introspection for all),
    # on a copy of the seeded demo database rather than a first start's seeding.
    folder = tmp_path_factory.mktemp("clients")
    async with serve(folder, await sqlite_templates.clone(), GATEWAY_DEV="true") as gateway:
        yield gateway


async def node(*args: str, cwd: Path = JS, env: dict[str, str] | None = None) -> str:
    process = await asyncio.create_subprocess_exec(
        "node", *args, cwd=cwd, stdout=PIPE, stderr=PIPE, env={**os.environ, **(env or {})}
    )
    out, err = await asyncio.wait_for(process.communicate(), 240)
    assert process.returncode == 0, (out + err).decode()
    return out.decode()


async def test_the_npm_clients(served: Served):
    need_node_tools()
    need(
        (JS / "node_modules" / "@apollo" / "client").is_dir(),
        "run `npm ci --prefix tests/js` (Apollo Client)",
    )
    out = await node("clients.mjs", served.base, INTEGRATION_TOKEN, variant_id(1), location_id(SEATTLE))
    results: dict[str, Any] = json.loads(out)
    failed = {name: r["error"] for name, r in results.items() if not r["ok"]}
    assert failed == {}
    assert len(results) == 9

    schema = results["graphql-js introspection"]["value"]
    assert schema["errors"] == [] and schema["products"] is True
    assert schema["dateTime"] == "https://scalars.graphql.org/andimarek/date-time"
    assert "stockChanged" in schema["subscriptions"]

    for name in ("apollo HttpLink query", "urql query"):
        assert len(results[name]["value"]["products"]["nodes"]) == 2
    persisted = results["apollo PersistedQueryLink"]["value"]
    assert persisted["sent"][0] == {"hash": True, "text": False}  # the hash first
    assert persisted["sent"][-1] == {"hash": True, "text": False}  # and then the hash is enough
    assert len(persisted["data"]["products"]["nodes"]) == 2

    pushes = [
        "apollo GraphQLWsLink subscription",
        "apollo HttpLink multipart subscription",
        "urql fetchSubscriptions",
        "graphql-sse distinct connections",
        "graphql-sse single connection",
    ]
    for name in pushes:
        level = results[name]["value"]["data"]["stockChanged"]
        assert level["location"]["id"] == location_id(SEATTLE), name
        assert level["variant"]["id"] == variant_id(1), name
    assert await served.metric("omnigate_active_subscriptions") == 0


async def test_graphql_codegen_types_a_listing_and_a_subscription_from_the_live_schema(
    served: Served, tmp_path: Path
):
    need_node_tools()
    need(
        (JS / "node_modules" / "@graphql-codegen" / "cli").is_dir(),
        "run `npm ci --prefix tests/js` (codegen)",
    )
    generated = tmp_path / "omnigate.generated.ts"
    env = {"OMNIGATE_GRAPHQL_URL": f"{served.base}/graphql", "OMNIGATE_CODEGEN_OUT": str(generated)}
    await node("../node_modules/.bin/graphql-codegen", "--config", "codegen.yml", cwd=JS / "codegen", env=env)
    types = generated.read_text()
    # strictScalars: an unmapped custom scalar would have failed the run.
    assert "DateTime: { input: string; output: string; }" in types
    assert "Decimal: { input: string; output: string; }" in types
    listing = next(line for line in types.splitlines() if line.startswith("export type ListingQuery ="))
    assert "priceRange: { minVariantPrice: { amount: string, currencyCode: CurrencyCode } }" in listing
    assert "updatedAt: string" in listing
    subscription = next(
        line for line in types.splitlines() if line.startswith("export type StockChangedSubscription =")
    )
    assert "stockChanged: { onHand: number" in subscription


async def test_python_gql_over_http_and_websockets_with_the_schema_from_the_server(served: Served):
    http = Client(
        transport=HTTPXAsyncTransport(url=f"{served.base}/graphql"), fetch_schema_from_transport=True
    )
    async with http as session:
        assert isinstance(http.schema, GraphQLSchema)  # gql's own introspection query passed
        assert "products" in http.schema.query_type.fields
        result = await session.execute(gql(LISTING))
        assert len(result["products"]["nodes"]) == 2
        with pytest.raises(Exception, match="Cannot query field"):  # validated locally against it
            await session.execute(gql("{ nope }"))

    ws = Client(
        transport=WebsocketsTransport(url=served.ws_url, subprotocols=["graphql-transport-ws"]),
        fetch_schema_from_transport=True,
    )
    async with ws as session:
        pushes = session.subscribe(GraphQLRequest(STOCK, variable_values={"l": [location_id(SEATTLE)]}))
        first = asyncio.ensure_future(anext(pushes))
        await served.until_subscribed(1)
        adjust = (
            "mutation ($v: ID!, $l: ID!) { inventoryAdjust(input: {reason: CYCLE_COUNT, "
            "changes: [{variantId: $v, locationId: $l, onHand: 31}]}) { userErrors { code } } }"
        )
        await served.data(adjust, {"v": variant_id(2), "l": location_id(SEATTLE)}, **served.as_integration())
        pushed = await asyncio.wait_for(first, 30)
        assert pushed["stockChanged"]["onHand"] == 31
        await pushes.aclose()
