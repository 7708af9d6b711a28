"""An order or a cart that is not the caller's gives nothing on any path a request can take:
a persisted or trusted document, a query over websockets (graphql-transport-ws and graphql-ws),
and a query over the Server-Sent Events stream, against a real `omnigate serve`. (POST, GET,
literals, variables, aliases, node and nodes: tests/test_authorization.py.)"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from gql import GraphQLRequest
from gql.transport.exceptions import TransportQueryError

from gateway.protections.persisted import sha256
from tests.commerce import BELLEVUE, SEATTLE, checkout, create_cart, line, set_stock
from tests.conftest import SqliteTemplates
from tests.served import Served, serve
from tests.test_sse import SSE, events

HEADER = "query Header($id: ID!) { order(id: $id) { number status total { amount } } }"
CART_HEADER = "query Cart($id: ID!) { cart(id: $id) { id channel updatedAt } }"


@pytest.fixture
async def shop(tmp_path: Path, sqlite_templates: SqliteTemplates) -> AsyncIterator[tuple[Served, dict, dict]]:
    manifest = tmp_path / "trusted.json"
    manifest.write_text(json.dumps({sha256(HEADER): HEADER, sha256(CART_HEADER): CART_HEADER}))
    async with serve(  # log mode: the set-up's own documents run too
        tmp_path,
        await sqlite_templates.clone(),
        GATEWAY_TRUSTED_DOCUMENTS=str(manifest),
        GATEWAY_TRUSTED_DOCUMENTS_MODE="log",
    ) as served:
        await set_stock(served, 1, SEATTLE, 5)
        owner = served.as_member("m1")
        cart = await create_cart(served, line(1, 1, "PICKUP", SEATTLE), **owner)
        ordered = await create_cart(served, line(1, 1, "PICKUP", SEATTLE), **owner)
        order = (await checkout(served, ordered["id"], **owner))["order"]
        yield served, cart, order


OTHERS = {"anonymous": None, "member B": "test-member-m2", "staff of store 2": f"test-staff-{BELLEVUE}"}


def _headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def _refused(body: dict[str, Any], order: dict, cart: dict) -> None:
    assert body.get("errors"), body
    assert {e["extensions"]["code"] for e in body["errors"]} <= {"UNAUTHENTICATED", "FORBIDDEN"}, body
    assert order["id"] not in repr(body.get("data")) and cart["id"] not in repr(body.get("data"))
    assert not (body.get("data") or {}).get("order") and not (body.get("data") or {}).get("cart")


async def test_trusted_documents_by_hash_reach_the_same_checks(shop: Any):
    served, cart, order = shop
    for query, variables in ((HEADER, {"id": order["id"]}), (CART_HEADER, {"id": cart["id"]})):
        by_hash = {"variables": variables,
                   "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256(query)}}}  # fmt: skip
        for token in OTHERS.values():
            response = await served.http.post("/graphql", json=by_hash, headers=_headers(token))
            _refused(response.json(), order, cart)
            params = {"variables": json.dumps(variables), "extensions": json.dumps(by_hash["extensions"])}
            headers = {**_headers(token), "Accept": "application/json"}
            got = await served.http.get("/graphql", headers=headers, params=params)
            _refused(got.json(), order, cart)
        mine = await served.http.post("/graphql", json=by_hash, headers=served.as_member("m1"))
        assert "errors" not in mine.json() and any(mine.json()["data"].values()), mine.json()


async def _over_websocket(
    served: Served, token: str | None, subprotocol: str, query: str, variables: dict
) -> Any:
    async with served.client(token, subprotocol=subprotocol) as session:
        try:
            return {"data": await session.execute(GraphQLRequest(query, variable_values=variables))}
        except TransportQueryError as refused:
            return {"data": refused.data, "errors": refused.errors}


# The gateway serves subscriptions over websockets; a query sent there is refused as a whole
# ("queries are not allowed", BAD_USER_INPUT) to everyone, the owner included.
TRANSPORT_REFUSAL = [{"message": "queries are not allowed", "extensions": {"code": "BAD_USER_INPUT"}}]


@pytest.mark.parametrize("subprotocol", ["graphql-transport-ws", "graphql-ws"])
async def test_queries_over_websockets_reach_the_same_checks(shop: Any, subprotocol: str):
    served, cart, order = shop
    for query, variables in ((HEADER, {"id": order["id"]}), (CART_HEADER, {"id": cart["id"]})):
        mine = await _over_websocket(served, "test-member-m1", subprotocol, query, variables)
        for token in OTHERS.values():
            theirs = await _over_websocket(served, token, subprotocol, query, variables)
            if theirs.get("errors") == TRANSPORT_REFUSAL:
                assert mine.get("errors") == TRANSPORT_REFUSAL, mine  # refused for what it is, to all
                continue
            _refused(theirs, order, cart)
            assert "errors" not in mine and any(mine["data"].values()), mine


async def test_queries_over_the_event_stream_reach_the_same_checks(shop: Any):
    served, cart, order = shop
    for query, variables in ((HEADER, {"id": order["id"]}), (CART_HEADER, {"id": cart["id"]})):
        for token in OTHERS.values():
            body = {"query": query, "variables": variables}
            async with served.http.stream(
                "POST", "/graphql/stream", json=body, headers={**SSE, **_headers(token)}
            ) as response:
                found = [e async for e in events(response)]
            assert response.status_code == 200
            kinds = [kind for kind, _ in found]
            assert kinds[-1] == "complete" and "next" in kinds, found
            for kind, data in found:
                if kind == "next":
                    _refused(data, order, cart)


async def test_a_members_cart_is_followed_only_by_that_member(shop: Any):
    served, cart, _order = shop
    query = "subscription ($id: ID!) { cartChanged(cartId: $id) { id lines { quantity } } }"
    for token in OTHERS.values():
        body = {"query": query, "variables": {"id": cart["id"]}}
        async with served.http.stream(
            "POST", "/graphql/stream", json=body, headers={**SSE, **_headers(token)}
        ) as response:
            # A stream that opened would wait for the cart's changes: the refusal comes at once.
            found = await asyncio.wait_for(_all(events(response)), 15)
        assert [kind for kind, _ in found] == ["next", "complete"], found
        _refused(found[0][1], _order, cart)


async def _all(stream: Any) -> list[Any]:
    return [e async for e in stream]
