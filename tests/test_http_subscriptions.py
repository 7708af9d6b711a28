"""Subscriptions over HTTP against a real `omnigate serve` (one per module): graphql-sse in both
modes, Apollo's multipart subscriptions, the same authorization as websockets, and a coded 406
for a subscription sent as a plain request. The npm clients are in tests/test_clients.py."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tests.commerce import BELLEVUE, SEATTLE, location_id, set_stock
from tests.conftest import SqliteTemplates
from tests.served import Served, serve
from tests.test_sse import events

pytestmark = pytest.mark.asyncio(loop_scope="module")

STOCK = "subscription ($l: [ID!]) { stockChanged(locationIds: $l) { onHand location { id } } }"
ORDERS = "subscription ($l: ID) { orderStatusChanged(locationId: $l) { id } }"
SSE = {"accept": "text/event-stream"}
MULTIPART = {"accept": 'multipart/mixed;boundary="graphql";subscriptionSpec="1.0",application/json'}
TOKEN = "x-graphql-event-stream-token"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def served(
    tmp_path_factory: pytest.TempPathFactory, sqlite_templates: SqliteTemplates
) -> AsyncIterator[Served]:
    async with serve(
        tmp_path_factory.mktemp("http-subscriptions"), await sqlite_templates.clone()
    ) as gateway:
        yield gateway


async def parts(response: Any) -> AsyncIterator[Any]:
    """The JSON parts of a multipart/mixed response (boundary `graphql`), heartbeats included."""
    buffer = b""
    async for chunk in response.aiter_bytes():
        buffer += chunk
        while b"\r\n\r\n" in buffer:
            head, _, rest = buffer.partition(b"\r\n\r\n")
            length = int(
                next(h.split(b":")[1] for h in head.split(b"\r\n") if h.lower().startswith(b"content-length"))
            )
            if len(rest) < length:
                break
            yield json.loads(rest[:length])
            buffer = rest[length:]


async def test_a_subscription_sent_as_a_plain_request_is_a_coded_406(served: Served):
    for response in (
        await served.http.post("/graphql", json={"query": STOCK}),
        await served.http.get("/graphql", params={"query": STOCK}),
        await served.http.post(
            "/graphql", json={"query": STOCK}, headers={"accept": "application/graphql-response+json"}
        ),
    ):
        assert response.status_code == 406, response.text
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert error["extensions"]["transports"] == [
            "graphql-sse",
            "multipart-subscription",
            "graphql-transport-ws",
        ]
        assert "text/event-stream" in error["message"] and "subscriptionSpec" in error["message"]
    # @defer's multipart (not served) is not taken for a stream: the query gets one JSON answer.
    defer = {"accept": "multipart/mixed;deferSpec=20220824,application/json"}
    answer = await served.http.post("/graphql", json={"query": "{ categories }"}, headers=defer)
    assert answer.status_code == 200 and answer.json()["data"]["categories"]


async def test_urql_style_accept_gets_json_for_a_query(served: Served):
    accept = (
        "application/graphql-response+json, application/graphql+json, application/json, "
        "text/event-stream, multipart/mixed"
    )
    answer = await served.http.post("/graphql", json={"query": "{ categories }"}, headers={"accept": accept})
    assert answer.headers["content-type"].startswith("application/graphql-response+json")
    assert answer.json()["data"]["categories"]


@pytest.mark.parametrize("path", ["/graphql", "/graphql/stream"])
async def test_graphql_sse_distinct_connections_on_both_paths(served: Served, path: str):
    body = {"query": STOCK, "variables": {"l": [location_id(SEATTLE)]}}
    async with served.http.stream("POST", path, json=body, headers=SSE) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = events(response)
        await served.until_subscribed(1)
        await set_stock(served, 1, BELLEVUE, 5)  # another store: not pushed
        await set_stock(served, 1, SEATTLE, 9)
        kind, data = await asyncio.wait_for(anext(stream), 30)
        assert (kind, data["data"]["stockChanged"]) == (
            "next",
            {"onHand": 9, "location": {"id": location_id(SEATTLE)}},
        )
    await served.until_subscribed(0)


async def test_apollo_multipart_subscription_with_heartbeats(served: Served):
    body = {"query": STOCK, "variables": {"l": [location_id(SEATTLE)]}}
    async with served.http.stream("POST", "/graphql", json=body, headers=MULTIPART) as response:
        assert response.status_code == 200
        media = response.headers["content-type"]
        assert (
            media.startswith("multipart/mixed")
            and "boundary=graphql" in media
            and "subscriptionSpec=1.0" in media
        )
        received = parts(response)
        assert await asyncio.wait_for(anext(received), 10) == {}  # the first heartbeat, at once
        await served.until_subscribed(1)
        await set_stock(served, 1, SEATTLE, 11)
        part = await asyncio.wait_for(anext(received), 30)
        while part == {}:
            part = await asyncio.wait_for(anext(received), 30)
        assert part["payload"]["data"]["stockChanged"] == {
            "onHand": 11,
            "location": {"id": location_id(SEATTLE)},
        }
    await served.until_subscribed(0)


async def test_authorization_is_the_same_over_every_http_transport(served: Served):
    async def first_codes(headers: dict[str, str], variables: dict[str, Any] | None = None) -> list[str]:
        body = {"query": ORDERS, "variables": variables or {}}
        async with served.http.stream("POST", "/graphql", json=body, headers=headers) as response:
            assert response.status_code == 200
            if response.headers["content-type"].startswith("text/event-stream"):
                kind, data = await anext(events(response))
                assert kind == "next"
            else:
                data = next(p for p in [x async for x in parts(response)] if p)
                data = data["payload"]
        return [e["extensions"]["code"] for e in data["errors"]]

    for transport in (SSE, MULTIPART):
        assert await first_codes(transport) == ["UNAUTHENTICATED"]
        other_store = {**transport, **served.as_staff(BELLEVUE)}
        assert await first_codes(other_store, {"l": location_id(SEATTLE)}) == ["FORBIDDEN"]


async def test_graphql_sse_single_connection_mode(served: Served):
    staff = served.as_staff(SEATTLE)
    reserved = await served.http.put("/graphql/stream", headers=staff)
    assert reserved.status_code == 201 and reserved.headers["content-type"].startswith("text/plain")
    token = reserved.text
    with_token = {**staff, TOKEN: token}
    async with served.http.stream("GET", "/graphql/stream", headers={**with_token, **SSE}) as stream:
        assert stream.status_code == 200
        # One stream per reservation; another caller may not use it; an unknown token is 404.
        assert (await served.http.get("/graphql/stream", headers={**with_token, **SSE})).status_code == 409
        stranger = await served.http.post(
            "/graphql/stream",
            json={"query": STOCK, "extensions": {"operationId": "x"}},
            headers={TOKEN: token},
        )
        assert (
            stranger.status_code == 403 and stranger.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        )
        unknown = await served.http.post("/graphql/stream", json={"query": STOCK}, headers={TOKEN: "nope"})
        assert unknown.status_code == 404
        # Request errors are answered to the request, coded, as over HTTP.
        no_id = await served.http.post("/graphql/stream", json={"query": STOCK}, headers=with_token)
        assert no_id.status_code == 400 and "operationId" in no_id.json()["errors"][0]["message"]
        invalid = await served.http.post(
            "/graphql/stream", json={"query": "subscription { nope }", "extensions": {"operationId": "bad"}},
            headers=with_token,
        )  # fmt: skip
        assert invalid.status_code == 400
        assert invalid.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

        received = events(stream)
        for operation_id, query, variables in (
            ("stock", STOCK, {"l": [location_id(SEATTLE)]}),
            ("orders", ORDERS, {"l": location_id(BELLEVUE)}),  # not this staff member's store
        ):
            body = {"query": query, "variables": variables, "extensions": {"operationId": operation_id}}
            accepted = await served.http.post("/graphql/stream", json=body, headers=with_token)
            assert accepted.status_code == 202, accepted.text
        kind, data = await asyncio.wait_for(anext(received), 30)
        assert (kind, data["id"]) == ("next", "orders")
        assert data["payload"]["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert await asyncio.wait_for(anext(received), 30) == ("complete", {"id": "orders"})
        await served.until_subscribed(1)
        await set_stock(served, 2, SEATTLE, 7)
        kind, data = await asyncio.wait_for(anext(received), 30)
        assert (kind, data["id"]) == ("next", "stock")
        assert data["payload"]["data"]["stockChanged"]["onHand"] == 7
        stopped = await served.http.delete(
            "/graphql/stream", params={"operationId": "stock"}, headers=with_token
        )
        assert stopped.status_code == 200
        await served.until_subscribed(0)
    # The stream is gone with its reservation, once the server has seen the client leave.
    for attempt in range(100):
        again = await served.http.post(
            "/graphql/stream",
            json={"query": STOCK, "extensions": {"operationId": f"after-{attempt}"}},
            headers=with_token,
        )
        if again.status_code == 404:
            break
        await asyncio.sleep(0.1)
    assert again.status_code == 404
    await served.until_subscribed(0)  # what was accepted meanwhile ended with the stream


async def test_the_stream_route_names_the_transports_it_serves(served: Served):
    plain = await served.http.post("/graphql/stream", json={"query": STOCK})
    assert plain.status_code == 406
    assert plain.json()["errors"][0]["extensions"]["transports"][0] == "graphql-sse"


async def test_streams_are_never_shed_and_the_accept_order_decides():
    from gateway.transport.media import MULTIPART, SSE, stream_protocol
    from gateway.transport.overload import _shed

    def scope(accept: str, path: str = "/graphql") -> dict:
        return {"type": "http", "path": path, "headers": [(b"accept", accept.encode())]}

    assert stream_protocol(scope("text/event-stream")) == SSE
    assert (
        stream_protocol(scope('multipart/mixed;boundary="graphql";subscriptionSpec="1.0",application/json'))
        == MULTIPART
    )
    assert stream_protocol(scope("application/json, text/event-stream")) is None
    assert stream_protocol(scope("application/json;q=0.5, text/event-stream")) == SSE
    assert stream_protocol(scope("text/event-stream;q=0, application/json")) is None
    assert stream_protocol(scope("multipart/mixed;deferSpec=20220824, application/json")) is None
    assert stream_protocol(scope("")) is None
    assert not _shed(scope("text/event-stream")) and not _shed(scope("", "/graphql/stream"))
    assert _shed(scope("application/json")) and _shed(scope("", "/webhooks/tryton"))
