"""The store console at /console: served under a strict CSP, off in production unless enabled,
and driven in Chromium against a real gateway as store staff use it on a tablet."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from gql import GraphQLRequest

from gateway import console
from tests.commerce import BELLEVUE, SEATTLE, checkout, create_cart, line, location_id, set_stock, variant_id
from tests.conftest import JWT_SECRET, SqliteTemplates, make_settings
from tests.conftest import serving as serving_app
from tests.served import Served, serve
from tests.servers import JS, OMNIGATE, free_port, need, need_node_tools

VARIANT = 1
MEMBER = "TWVtYmVyOm0x"  # the global id of m1, Ana (ana@example.com)
ORDERS = "subscription { orderStatusChanged { id status } }"
SKU = "query ($id: ID!) { node(id: $id) { ... on ProductVariant { sku } } }"
MOVE = """
mutation ($id: ID!, $status: FulfillmentStatus!) {
  fulfillmentUpdateStatus(fulfillmentId: $id, status: $status) { userErrors { code } }
}"""
ME_CART = "{ me { cart { id } } }"
FULFILLMENTS = "query ($id: ID!) { order(id: $id) { fulfillments { id status } } }"
CONSOLE = {"GATEWAY_CONSOLE": "true", "GATEWAY_JWT_SECRET": JWT_SECRET}


async def staff_token(location: int, scopes: str = "") -> str:
    roles = ["--scopes", scopes] if scopes else []
    minted = await asyncio.create_subprocess_exec(
        *OMNIGATE, "token", "staff", "--locations", str(location), "--name", "ana", *roles,
        env={**os.environ, "GATEWAY_JWT_SECRET": JWT_SECRET}, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await minted.communicate()
    assert minted.returncode == 0
    return out.decode().strip()


async def test_production_serves_no_console_unless_enabled(database_url: str):
    async with serving_app(make_settings(database_url)) as api:
        assert (await api.client.get("/console")).status_code == 404
        assert (await api.client.get(f"{console.ASSETS_PATH}/console.js")).status_code == 404
    async with serving_app(make_settings(database_url, console=True)) as api:
        assert (await api.client.get("/console")).status_code == 200


async def test_the_page_has_a_strict_csp_with_a_fresh_nonce(database_url: str):
    async with serving_app(make_settings(database_url, console=True)) as api:
        pages = [await api.client.get("/console") for _ in range(2)]
        if not console.installed():
            pytest.skip("the console's files are not built: npm ci --prefix gateway/console")
        nonces = []
        for page in pages:
            assert page.status_code == 200
            policy = page.headers["content-security-policy"]
            nonce = re.search(r'<script src="[^"]+" nonce="([^"]+)"', page.text).group(1)
            assert f"script-src 'nonce-{nonce}'" in policy
            assert f"style-src 'self' 'nonce-{nonce}'" in policy
            assert "default-src 'none'" in policy and "connect-src 'self' ws://gateway.test" in policy
            assert "<script>" not in page.text and "style=" not in page.text  # nothing inline
            nonces.append(nonce)
        assert nonces[0] != nonces[1]
        script = await api.client.get(f"{console.ASSETS_PATH}/console.js")
        assert script.status_code == 200 and "orderStatusChanged" in script.text
        assert (await api.client.get(f"{console.ASSETS_PATH}/../__init__.py")).status_code == 404


async def test_without_its_files_the_page_says_how_to_get_them(database_url: str, monkeypatch, tmp_path):
    monkeypatch.setattr(console, "DIST", tmp_path)
    async with serving_app(make_settings(database_url, console=True)) as api:
        page = await api.client.get("/console")
        assert page.status_code == 200 and "npm ci --prefix gateway/console" in page.text


class Browser:
    """tests/js/console.mjs: one Chromium page, commanded a line at a time."""

    def __init__(self, proc: asyncio.subprocess.Process, shots: Path) -> None:
        self.proc = proc
        self.shots = shots

    async def __call__(self, op: str, **args: Any) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write((json.dumps({"op": op, **args}) + "\n").encode())
        await self.proc.stdin.drain()
        answer = json.loads(await asyncio.wait_for(self.proc.stdout.readline(), 90))
        assert answer["ok"], answer
        return answer["value"]

    async def screenshot(self, name: str) -> None:
        await self("screenshot", path=str(self.shots / f"console-{name}.png"))


@contextlib.asynccontextmanager
async def browser(base: str, shots: Path) -> AsyncIterator[Browser]:
    proc = await asyncio.create_subprocess_exec(
        "node", str(JS / "console.mjs"), base,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        yield Browser(proc, shots)
    finally:
        if proc.returncode is None:
            assert proc.stdin is not None
            proc.stdin.write(b'{"op": "quit"}\n')
            with contextlib.suppress(Exception):
                await proc.stdin.drain()
            proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def place_pickup_order(gateway: Served, key: str) -> dict[str, Any]:
    headers = gateway.as_member("m1")
    cart = await create_cart(gateway, line(VARIANT, 1, "PICKUP", SEATTLE), lean=True, **headers)
    payload = await checkout(gateway, cart["id"], key=key, lean=True, **headers)
    assert payload["userErrors"] == []
    return payload["order"]


async def until_status(pushes: Any, order_id: str, status: str) -> None:
    async for pushed in pushes:
        if (
            pushed["orderStatusChanged"]["id"] == order_id
            and pushed["orderStatusChanged"]["status"] == status
        ):
            return


async def test_staff_run_the_store_from_a_tablet_live_through_a_restart(
    tmp_path: Path, sqlite_templates: SqliteTemplates
):
    need_node_tools()
    chromium = shutil.which("chromium") == "/usr/bin/chromium"
    need(chromium, "Debian's chromium is not installed (apt-get install chromium)")
    need(console.installed(), "the console's files are not built: npm ci --prefix gateway/console")
    need(shutil.which("node") is not None, "Node.js is not installed")
    database_url = await sqlite_templates.clone()
    port = free_port()
    card = '[data-group="{group}"] [data-order="{order}"]'
    async with browser(f"http://127.0.0.1:{port}", tmp_path) as page:
        async with serve(tmp_path, database_url, port=port, **CONSOLE) as gateway:
            await set_stock(gateway, VARIANT, SEATTLE, 10)
            await set_stock(gateway, VARIANT, BELLEVUE, 4)
            sku = (await gateway.data(SKU, {"id": variant_id(VARIANT)}))["node"]["sku"]

            # Staff sign in with the token `omnigate token staff` mints (the README's way); the
            # tablet is bound to Seattle, the one store the token names.
            assert "script-src 'nonce-" in await page("open")
            await page.screenshot("sign-in")
            # The token carries the roles a store lead has: customer lookup (support:read) and the
            # store's figures (analytics:read).
            token = await staff_token(SEATTLE, "support:read,analytics:read")
            assert await page("signIn", token=token, store=location_id(SEATTLE))
            assert await page("live", link="online") is False  # no offline banner
            assert await page("smallestTarget") >= 44

            # A shopper places a pickup order through the API: it appears in "to prepare"
            # without a reload; "Ready" on the tablet pushes orderStatusChanged to the shopper.
            async with gateway.client("test-member-m1") as shopper:
                pushes = shopper.subscribe(GraphQLRequest(ORDERS))
                first_push = asyncio.ensure_future(anext(pushes))
                await gateway.until_subscribed(2)  # the tablet's and the shopper's
                order = await place_pickup_order(gateway, "console-1")
                await asyncio.wait_for(first_push, 30)
                await page("wait", selector=card.format(group="prepare", order=order["id"]))
                await page.screenshot("pickup-queue")
                await page("click", selector=f'[data-order="{order["id"]}"] [data-action="READY_FOR_PICKUP"]')
                await asyncio.wait_for(until_status(pushes, order["id"], "READY_FOR_PICKUP"), 30)
                await pushes.aclose()
            await page("wait", selector=card.format(group="ready", order=order["id"]))

            # Stock: the SKU's numbers here; a count on the tablet changes them, and so does a
            # count made elsewhere (stockChanged), without a reload.
            await page("tab", name="stock")
            await page("fill", selector="#sku", value=sku)
            await page("click", selector='[data-screen-name="stock"] form button[type=submit]')
            await page("waitText", selector='[data-stock="onHand"]', text="10")
            assert await page("text", selector='[data-stock="reserved"]') == "1"
            await page("fill", selector="#quantity", value="7")
            await page("click", selector='[data-action="count"]')
            await page("waitText", selector='[data-stock="onHand"]', text="7")
            await page("waitText", selector='[data-stock="available"]', text="6")
            await set_stock(gateway, VARIANT, SEATTLE, 12)  # the back office's count, pushed live
            await page("waitText", selector='[data-stock="onHand"]', text="12")
            await page.screenshot("stock")

            # The other screens. Customer: find the demo member by email; their profile, points,
            # tier and timeline (the pickup order just placed and readied) show.
            await page("tab", name="customer")
            await page("fill", selector="#customer-query", value="ana@example.com")
            await page("click", selector=".lookup form button[type=submit]")
            await page("wait", selector=f'[data-member-profile="{MEMBER}"]')
            assert await page("text", selector='[data-loyalty="points"]') == "0"  # nothing collected yet
            assert await page("text", selector='[data-loyalty="tier"]')
            await page("wait", selector='.timeline-entry[data-kind="ORDER"]')
            entry = await page("text", selector='.timeline-entry[data-kind="ORDER"]')
            assert "Seattle" in entry or "web" in entry, entry
            await page("fill", selector="#cart-sku", value=sku)
            await page("click", selector="form.cart-add button[type=submit]")
            await page("wait", selector="[data-cart]")
            await page("fill", selector="#customer-email", value="ana@example.com")
            await page("click", selector="[data-cart] form button[type=submit]")
            await page("wait", selector="[data-cart] .ok")  # the tablet's cart is Ana's now
            tablet_cart = await page("attribute", selector="[data-cart]", name="data-cart")
            mine = await gateway.data(ME_CART, **gateway.as_member("m1"))
            assert mine["me"]["cart"]["id"] == tablet_cart
            await page.screenshot("customer")
            await page("tab", name="returns")
            await page("fill", selector="#return-order", value=order["id"])
            await page("click", selector='[data-screen-name="returns"] form button[type=submit]')
            await page("wait", selector=".return-line")
            await page.screenshot("returns")
            # Today: the store's sales and orders by channel from `analytics` (the role is on the
            # token): the web order placed above, and one waiting for pickup.
            await page("tab", name="today")
            await page("wait", selector="[data-analytics] [data-bar]")
            assert await page("text", selector='[data-today="orders"]') == "1"
            assert re.fullmatch(r"[1-9]\d*\.\d\d USD", await page("text", selector='[data-today="sales"]'))
            assert await page("text", selector='[data-today="waiting"]') == "1"
            await page.screenshot("today")
            await page("viewport", width=800, height=1280)  # portrait
            await page("tab", name="pickup")
            await page.screenshot("pickup-portrait")

        # The gateway goes away: the tablet says so. While it is down the order is collected
        # and another one is placed (through another gateway on the same database); when the
        # gateway is back the tablet reconnects by itself and catches up without a reload.
        assert await page("live", link="offline") is True  # the banner shows
        await page.screenshot("offline")
        async with serve(tmp_path, database_url) as elsewhere:
            staff = elsewhere.as_staff(SEATTLE)
            found = (await elsewhere.data(FULFILLMENTS, {"id": order["id"]}, **staff))["order"]
            moved = await elsewhere.data(
                MOVE, {"id": found["fulfillments"][0]["id"], "status": "PICKED_UP"}, **staff
            )
            assert moved["fulfillmentUpdateStatus"]["userErrors"] == []
            missed = await place_pickup_order(elsewhere, "console-2")
        async with serve(tmp_path, database_url, port=port, **CONSOLE) as gateway:
            assert await page("live", link="online") is False
            await page("wait", selector=card.format(group="collected", order=order["id"]))
            await page("wait", selector=card.format(group="prepare", order=missed["id"]))
            # Pushes flow again: a new order appears live.
            again = await place_pickup_order(gateway, "console-3")
            await page("wait", selector=card.format(group="prepare", order=again["id"]))
            await page.screenshot("recovered")
            # The collected order comes back at the counter: refunded.
            await page("tab", name="returns")
            await page("fill", selector="#return-order", value=order["id"])
            await page("click", selector='[data-screen-name="returns"] form button[type=submit]')
            await page("fill", selector='.return-line input[type="number"]', value="1")
            await page("click", selector='[data-screen-name="returns"] form.panel button[type=submit]')
            await page("wait", selector='[data-screen-name="returns"] .ok')
            refund = await page("text", selector='[data-screen-name="returns"] .ok')
            assert refund.startswith("Refund 57.50 USD"), refund
            await page.screenshot("returned")
            report = await page("report")
    assert report["violations"] == []
    assert report["errors"] == []
    assert report["foreign"] == []


async def test_without_the_roles_the_tablet_builds_carts_and_counts_pickups(
    tmp_path: Path, sqlite_templates: SqliteTemplates
):
    """Store staff without support:read find no customer (the API refuses, the screen says whom
    to ask); without analytics:read, Today shows the pickup queue's numbers."""
    need_node_tools()
    need(shutil.which("chromium") == "/usr/bin/chromium", "Debian's chromium is not installed")
    need(console.installed(), "the console's files are not built: npm ci --prefix gateway/console")
    database_url = await sqlite_templates.clone()
    port = free_port()
    async with (
        browser(f"http://127.0.0.1:{port}", tmp_path) as page,
        serve(tmp_path, database_url, port=port, **CONSOLE) as gateway,
    ):
        await set_stock(gateway, VARIANT, SEATTLE, 10)
        await place_pickup_order(gateway, "console-roles-1")
        await page("open")
        assert await page("signIn", token=await staff_token(SEATTLE), store=location_id(SEATTLE))
        await page("tab", name="customer")
        await page("fill", selector="#customer-query", value="ana@example.com")
        await page("click", selector=".lookup form button[type=submit]")
        await page("wait", selector='[data-lookup="off"]')
        assert "support:read" in await page("text", selector='[data-lookup="off"]')
        await page("wait", selector="form.cart-add")  # carts are still built here
        await page("tab", name="today")
        await page("wait", selector='[data-analytics="off"]')
        await page("waitText", selector='[data-today="prepare"]', text="1")
        assert re.fullmatch(r"[1-9]\d*\.\d\d", await page("text", selector='[data-bar="WEB"] .value'))
        await page.screenshot("today-without-analytics")
        report = await page("report")
    assert report["violations"] == [] and report["errors"] == [] and report["foreign"] == []
