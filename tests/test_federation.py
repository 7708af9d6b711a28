"""Apollo Federation v2 subgraph mode (GATEWAY_FEDERATION=true): `_service { sdl }` and
`_entities` through the API, with node's authorization; the default schema untouched; and, with
the npm tools of tests/federation/, Omnigate composed with a small reviews subgraph by The
Guild's composition and a query spanning both through Hive Gateway."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from asyncio.subprocess import PIPE
from pathlib import Path

import httpx
from strawberry.printer import print_schema

from schema import build_schema
from tests.commerce import (
    BELLEVUE,
    SEATTLE,
    checkout,
    create_cart,
    gid,
    line,
    location_id,
    set_stock,
    variant_id,
)
from tests.conftest import SqliteTemplates
from tests.helpers import PARTNER_KEY, PARTNERS, bearer, gateway
from tests.served import serve
from tests.servers import free_port, need

FEDERATION = Path(__file__).parent / "federation"
SCHEMA = Path(__file__).parent.parent / "schema.graphql"
ENTITIES = """query ($r: [_Any!]!) { _entities(representations: $r) {
  __typename
  ... on Product { id title }
  ... on ProductVariant { id sku }
  ... on Location { id name }
  ... on Order { id number }
} }"""
NODES = """query ($ids: [ID!]!) { nodes(ids: $ids) {
  __typename
  ... on Product { id title }
  ... on ProductVariant { id sku }
  ... on Location { id name }
  ... on Order { id number }
} }"""


def representations(*ids: tuple[str, str]) -> dict:
    return {"r": [{"__typename": t, "id": i} for t, i in ids]}


async def test_the_subgraph_serves_its_sdl_and_entities_as_node_does(database_url):
    async with gateway(database_url, federation=True, dev=True) as api:
        sdl = (await api.data("{ _service { sdl } }"))["_service"]["sdl"]
        assert '@link(url: "https://specs.apollo.dev/federation/' in sdl
        for entity in ("Product", "ProductVariant", "Location", "Order"):
            assert f'type {entity} implements Node @key(fields: "id"' in sdl

        ids = [
            ("Product", gid("Product", 3)),
            ("ProductVariant", variant_id(5)),
            ("Location", location_id(SEATTLE)),
        ]
        entities = (await api.data(ENTITIES, representations(*ids)))["_entities"]
        nodes = (await api.data(NODES, {"ids": [i for _, i in ids]}))["nodes"]
        assert entities == nodes and all(entities)

        unknown = (await api.data(ENTITIES, representations(("Product", gid("Product", 99999)))))["_entities"]
        assert unknown == [None]
        for wrong in (("Product", variant_id(1)), ("Product", "not-an-id")):
            body = await api.gql(ENTITIES, representations(wrong))
            assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


async def test_an_order_entity_is_only_for_whom_node_shows_it(database_url):
    async with gateway(database_url, federation=True, dev=True) as api:
        await set_stock(api, 1, SEATTLE, 2)
        cart = await create_cart(api, line(1, 1, "PICKUP", SEATTLE), **api.as_member("m1"))
        order = (await checkout(api, cart["id"], **api.as_member("m1")))["order"]
        wanted = representations(("Order", order["id"]))
        for headers, seen in (
            (api.as_member("m1"), True),
            (api.as_staff(SEATTLE), True),
            (api.as_integration(), False),  # the stock integration reads no orders
            (api.as_order_sync(), True),
            ({}, False),
            (api.as_member("m2"), False),
            (api.as_staff(BELLEVUE), False),
        ):
            entity = (await api.data(ENTITIES, wanted, **headers))["_entities"][0]
            node = (await api.data(NODES, {"ids": [order["id"]]}, **headers))["nodes"][0]
            assert entity == node
            assert (entity is not None) is seen, headers


async def test_entities_answer_the_same_with_and_without_the_compiled_path(database_url):
    ids = representations(("Product", gid("Product", 1)), ("Location", location_id(BELLEVUE)))
    answers = []
    for compiled in (True, False):
        async with gateway(database_url, federation=True, dev=True, compiled_execution=compiled) as api:
            answers.append(
                (await api.client.post("/graphql", json={"query": ENTITIES, "variables": ids})).json()
            )
            if compiled:  # strawberry's own resolver: not compiled, planned away before it runs
                assert (api.gateway.compiled.compiled, api.gateway.compiled.fallbacks) == (0, 1)
    assert answers[0]["data"] == answers[1]["data"]


async def test_the_sdl_is_schema_information_closed_to_anonymous_callers_in_production(database_url):
    async with gateway(database_url, federation=True, partner_keys=PARTNERS) as api:
        codes = [e["extensions"]["code"] for e in (await api.gql("{ _service { sdl } }"))["errors"]]
        assert codes == ["FORBIDDEN"]
        assert (await api.data("{ _service { sdl } }", **bearer(PARTNER_KEY)))["_service"]["sdl"]


def test_the_default_schema_stays_exactly_as_it_is():
    build_schema(federation=True)
    default = build_schema()
    assert print_schema(default) + "\n" == SCHEMA.read_text()
    assert "_entities" not in default._schema.query_type.fields
    assert "_service" not in default._schema.query_type.fields


async def test_a_query_spanning_omnigate_and_a_reviews_subgraph_runs_through_hive_gateway(
    tmp_path: Path, sqlite_templates: SqliteTemplates
):
    need(
        (FEDERATION / "node_modules" / "@graphql-hive" / "gateway").is_dir(),
        "run `npm ci` in tests/federation",
    )
    products = [gid("Product", 1), gid("Product", 2)]
    env = {"GATEWAY_FEDERATION": "true", "GATEWAY_DEV": "true"}
    async with serve(tmp_path, await sqlite_templates.clone(), **env) as omnigate:
        reviews_port, gateway_port = free_port(), free_port()
        reviews = await asyncio.create_subprocess_exec(
            "node", "reviews.mjs", str(reviews_port), *products, cwd=FEDERATION, stdout=PIPE
        )
        hive = None
        try:
            assert b"READY" in await asyncio.wait_for(reviews.stdout.readline(), 30)
            supergraph = tmp_path / "supergraph.graphql"
            compose = await asyncio.create_subprocess_exec(
                "node", "compose.mjs", str(supergraph),
                f"omnigate={omnigate.base}/graphql", f"reviews=http://127.0.0.1:{reviews_port}/graphql",
                cwd=FEDERATION, stdout=PIPE, stderr=PIPE,
            )  # fmt: skip
            out, err = await asyncio.wait_for(compose.communicate(), 120)
            assert compose.returncode == 0, (out + err).decode()
            hive = await asyncio.create_subprocess_exec(
                "node", "node_modules/@graphql-hive/gateway/dist/bin.js", "supergraph", str(supergraph),
                "--port", str(gateway_port), "--host", "127.0.0.1",
                cwd=FEDERATION, env={**os.environ, "NODE_ENV": "production"}, start_new_session=True,
            )  # fmt: skip
            url = f"http://127.0.0.1:{gateway_port}/graphql"
            query = "{ products(first: 2) { nodes { id title reviews { rating body } } } }"
            async with httpx.AsyncClient(timeout=30) as client:
                for _ in range(300):
                    try:
                        answer = await client.post(url, json={"query": query})
                        break
                    except httpx.TransportError:
                        assert hive.returncode is None, "hive-gateway exited"
                        await asyncio.sleep(0.2)
                body = answer.json()
            assert "errors" not in body, body
            nodes = body["data"]["products"]["nodes"]
            assert [n["id"] for n in nodes] == products
            assert all(n["title"] for n in nodes)  # from Omnigate
            assert nodes[0]["reviews"][0]["rating"] == 5  # from the reviews subgraph, joined on the id
        finally:
            for process in (reviews, hive):
                if process is not None and process.returncode is None:
                    os.killpg(process.pid, signal.SIGTERM) if process is hive else process.terminate()
                    await process.wait()
    json.dumps(body)  # the whole answer is plain JSON
