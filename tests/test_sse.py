"""Subscriptions over Server-Sent Events (graphql-sse, distinct connections) at /graphql/stream,
against a real `omnigate serve`: the npm graphql-sse client, and httpx streaming for the rules."""

from __future__ import annotations

import asyncio
import json
from asyncio.subprocess import PIPE
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.commerce import BELLEVUE, SEATTLE, location_id, set_stock, variant_id
from tests.conftest import INTEGRATION_TOKEN, SqliteTemplates
from tests.served import Served, serve
from tests.servers import JS, need, need_node_tools

STOCK = """subscription ($l: [ID!]) { stockChanged(locationIds: $l) { onHand location { id } } }"""
ORDERS = "subscription ($l: ID) { orderStatusChanged(locationId: $l) { id } }"
SSE = {"accept": "text/event-stream"}


@pytest.fixture
async def served(tmp_path: Path, sqlite_templates: SqliteTemplates) -> AsyncIterator[Served]:
    async with serve(tmp_path, await sqlite_templates.clone()) as gateway:
        yield gateway


async def events(response: Any) -> AsyncIterator[tuple[str, Any]]:
    """(event, data) of an SSE response; comment lines (keep-alives) are skipped."""
    kind, data = None, []
    async for line in response.aiter_lines():
        if line.startswith(":"):
            continue
        if line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif line == "" and kind is not None:
            text = "\n".join(data)
            yield kind, json.loads(text) if text else None
            kind, data = None, []


async def test_the_graphql_sse_client_completes_a_subscription(served: Served):
    need_node_tools()
    need((JS / "node_modules" / "graphql-sse").is_dir(), "run `npm ci --prefix tests/js` (graphql-sse)")
    args = [served.base, INTEGRATION_TOKEN, variant_id(1), location_id(SEATTLE)]
    node = await asyncio.create_subprocess_exec(
        "node", "subscribe-sse.mjs", *args, cwd=JS, stdout=PIPE, stderr=PIPE
    )
    out, err = await asyncio.wait_for(node.communicate(), 60)
    assert node.returncode == 0, err.decode()
    assert json.loads(out)["data"] == {
        "stockChanged": {
            "onHand": 42,
            "location": {"id": location_id(SEATTLE)},
            "variant": {"id": variant_id(1)},
        }
    }
    for _ in range(100):  # the server notices the closed stream when it next writes or reads
        if await served.metric("omnigate_active_subscriptions") == 0:
            break
        await asyncio.sleep(0.1)
    assert await served.metric("omnigate_active_subscriptions") == 0


async def test_a_stream_pushes_only_what_it_asked_for(served: Served):
    body = {"query": STOCK, "variables": {"l": [location_id(SEATTLE)]}}
    async with served.http.stream("POST", "/graphql/stream", json=body, headers=SSE) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = events(response)
        await served.until_subscribed(1)
        await set_stock(served, 1, BELLEVUE, 5)  # another store: not pushed
        await set_stock(served, 1, SEATTLE, 9)
        kind, data = await asyncio.wait_for(anext(stream), 30)
        assert (kind, data["data"]["stockChanged"]) == (
            "next", {"onHand": 9, "location": {"id": location_id(SEATTLE)}}
        )  # fmt: skip


async def test_authorization_and_bad_documents_answer_in_the_stream(served: Served):
    async def answer(body: dict[str, Any], **headers: str) -> list[tuple[str, Any]]:
        async with served.http.stream(
            "POST", "/graphql/stream", json=body, headers={**SSE, **headers}
        ) as response:
            assert response.status_code == 200
            return [e async for e in events(response)]

    def codes(found: list[tuple[str, Any]]) -> list[str]:
        assert [kind for kind, _ in found] == ["next", "complete"]
        return [e["extensions"]["code"] for e in found[0][1]["errors"]]

    anonymous = await answer({"query": ORDERS})
    assert codes(anonymous) == ["UNAUTHENTICATED"]
    other_store = await answer(
        {"query": ORDERS, "variables": {"l": location_id(SEATTLE)}}, **served.as_staff(BELLEVUE)
    )
    assert codes(other_store) == ["FORBIDDEN"]
    assert codes(await answer({"query": "subscription { nope }"})) == ["BAD_USER_INPUT"]  # as over HTTP

    refused = await served.http.post("/graphql/stream", content=b"[1]", headers=SSE)
    assert (
        refused.status_code == 400 and refused.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    )
    not_sse = await served.http.post("/graphql/stream", json={"query": STOCK})
    assert not_sse.status_code == 406
    # A cross-site form or no-cors fetch cannot open a stream: text/plain needs a preflight header.
    form = await served.http.post(
        "/graphql/stream", content=json.dumps({"query": STOCK}), headers={**SSE, "content-type": "text/plain"}
    )
    assert form.status_code == 400 and "preflight" in form.json()["errors"][0]["message"].lower()
