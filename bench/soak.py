"""Soak: one gateway process under ten minutes of mixed traffic, measured every 30 seconds.

    python -m bench.soak                        # 10 minutes; writes its table into bench/RESULTS.md
    python -m bench.soak --minutes 1 --no-write # a smoke run: prints the table only

A fresh demo database and one `omnigate serve` (one uvicorn worker), loaded from this process
(one event loop, loopback only, bounded in time) by `--clients` concurrent HTTP clients, each
picking its next request at random: browse 70% (listing pages, product pages, stores near a
point, a variant's store availability), cart 20% (create, add lines, read), checkout 5% (a card
checkout of one of the carts made), and 5% subscription churn: a websocket that connects,
subscribes to `stockChanged`, and leaves (every other one abruptly, with no close frame).
Besides, `--held` subscriptions stay open for the whole run, a tenth of them replaced every
interval, hearing the stock changes that checkouts and carts make.

Every `--interval` seconds a row: throughput, error rate (transport failures, HTTP errors and
GraphQL `errors`; business userErrors such as INSUFFICIENT_STOCK are answers, counted apart),
p50/p99 latency, the server's resident memory (VmRSS), the subscriptions it holds, websocket
connects, and the machine's load average (the machine is shared: read figures with it). RSS
must level off: the summary compares the second half of the run with the first.

The table goes into bench/RESULTS.md between `<!-- soak:start -->` and `<!-- soak:end -->`
(that block is replaced, or appended when absent; `python -m bench` keeps it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import websockets

from bench.listing import ROOT
from bench.machine import commit, load_average, machine
from bench.servers import Server, Servers, prepare_database

TOKEN = "bench-soak-integration-token"
RESULTS = ROOT / "bench" / "RESULTS.md"
START, END = "<!-- soak:start -->", "<!-- soak:end -->"
VISA = {"method": "CARD", "cardToken": "tok_visa"}

LISTING = """query ($after: String, $category: String) {
  products(first: 20, after: $after, category: $category) {
    edges { cursor node { id handle title priceRange { minVariantPrice { amount currencyCode } } } }
    pageInfo { hasNextPage endCursor } } }"""
PRODUCT = """query ($handle: String!) { product(handle: $handle) { id title description
  variants { id sku title price { amount } quantityAvailable } } }"""
NEAR = """query ($lat: Float!, $lon: Float!) { locations(first: 5, near: {latitude: $lat, longitude: $lon}) {
  edges { distanceKm node { id name } } } }"""
AVAILABILITY = """query ($id: ID!) { node(id: $id) { ... on ProductVariant {
  storeAvailability(near: {latitude: 47.61, longitude: -122.34}, first: 3) {
    location { name } available pickupReadyBy } } } }"""
CART_CREATE = """mutation ($lines: [CartLineInput!]!) { cartCreate(input: {lines: $lines}) {
  cart { id lines { id quantity } } userErrors { code } } }"""
LINES_ADD = """mutation ($cart: ID!, $lines: [CartLineInput!]!) { cartLinesAdd(cartId: $cart, lines: $lines) {
  cart { id } userErrors { code } } }"""
CART = "query ($id: ID!) { cart(id: $id) { id subtotal { amount } lines { quantity status } } }"
CHECKOUT = """mutation ($cart: ID!, $key: String!, $payment: PaymentInput!) {
  checkoutComplete(cartId: $cart, payment: $payment, idempotencyKey: $key) {
    order { id status } userErrors { code } } }"""
SUBSCRIBE = "subscription ($v: [ID!]) { stockChanged(variantIds: $v) { onHand available } }"


@dataclass
class Window:
    requests: int = 0
    errors: int = 0
    user_errors: int = 0
    latencies: list[float] = field(default_factory=list)
    connects: int = 0
    pushes: int = 0
    kinds: dict[str, int] = field(default_factory=dict)


@dataclass
class Catalog:
    handles: list[str]
    categories: list[str]
    variants: list[str]
    stores: list[str]


class Soak:
    def __init__(self, server: Server, catalog: Catalog, args: argparse.Namespace) -> None:
        self.server = server
        self.catalog = catalog
        self.args = args
        self.window = Window()
        self.carts: list[str] = []
        self.rng = random.Random(args.seed)
        self.ws_url = server.url("/graphql").replace("http://", "ws://")
        self.deadline = 0.0

    # --- HTTP traffic ---

    async def post(self, client: httpx.AsyncClient, kind: str, query: str, variables: dict[str, Any]) -> Any:
        started = time.perf_counter()
        window = self.window
        try:
            response = await client.post("/graphql", json={"query": query, "variables": variables})
            body = response.json()
            failed = response.status_code >= 400 or bool(body.get("errors"))
        except (httpx.HTTPError, ValueError):
            body, failed = None, True
        window.requests += 1
        window.kinds[kind] = window.kinds.get(kind, 0) + 1
        window.latencies.append(time.perf_counter() - started)
        if failed:
            window.errors += 1
            return None
        payload = next(iter(body["data"].values()), None) if body.get("data") else None
        if isinstance(payload, dict) and payload.get("userErrors"):
            window.user_errors += 1
        return body["data"]

    def line(self) -> dict[str, Any]:
        variant = self.rng.choice(self.catalog.variants)
        if self.rng.random() < 0.7:
            return {"variantId": variant, "quantity": 1, "fulfillment": {"mode": "SHIP"}}
        store = self.rng.choice(self.catalog.stores)
        return {"variantId": variant, "quantity": 1, "fulfillment": {"mode": "PICKUP", "locationId": store}}

    async def browse(self, client: httpx.AsyncClient) -> None:
        rng, catalog = self.rng, self.catalog
        pick = rng.random()
        if pick < 0.35:
            data = await self.post(client, "listing", LISTING, {"category": rng.choice(catalog.categories)})
            if data and data["products"]["pageInfo"]["hasNextPage"] and rng.random() < 0.5:
                after = data["products"]["pageInfo"]["endCursor"]
                await self.post(client, "listing", LISTING, {"after": after})
        elif pick < 0.75:
            await self.post(client, "product", PRODUCT, {"handle": rng.choice(catalog.handles)})
        elif pick < 0.9:
            point = {"lat": 45 + rng.random() * 4, "lon": -124 + rng.random() * 3}
            await self.post(client, "stores", NEAR, point)
        else:
            await self.post(client, "availability", AVAILABILITY, {"id": rng.choice(catalog.variants)})

    async def cart(self, client: httpx.AsyncClient) -> None:
        pick = self.rng.random()
        if pick < 0.5 or not self.carts:
            data = await self.post(client, "cart", CART_CREATE, {"lines": [self.line()]})
            if data and data["cartCreate"]["cart"]:
                self.carts.append(data["cartCreate"]["cart"]["id"])
                del self.carts[: max(0, len(self.carts) - 500)]
        elif pick < 0.8:
            variables = {"cart": self.rng.choice(self.carts), "lines": [self.line()]}
            await self.post(client, "cart", LINES_ADD, variables)
        else:
            await self.post(client, "cart", CART, {"id": self.rng.choice(self.carts)})

    async def checkout(self, client: httpx.AsyncClient) -> None:
        if not self.carts:
            return await self.cart(client)
        cart = self.carts.pop(self.rng.randrange(len(self.carts)))
        variables = {"cart": cart, "key": f"soak-{self.rng.getrandbits(64):x}", "payment": VISA}
        await self.post(client, "checkout", CHECKOUT, variables)
        return None

    async def client_loop(self, client: httpx.AsyncClient) -> None:
        while time.monotonic() < self.deadline:
            pick = self.rng.random()
            if pick < 0.70:
                await self.browse(client)
            elif pick < 0.90:
                await self.cart(client)
            elif pick < 0.95:
                await self.checkout(client)
            else:
                await self.churn_once(abrupt=self.rng.random() < 0.5)

    # --- Subscriptions ---

    async def subscribe(self, variant: str) -> Any:
        ws = await websockets.connect(self.ws_url, subprotocols=["graphql-transport-ws"], open_timeout=30)
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        await ws.recv()
        payload = {"query": SUBSCRIBE, "variables": {"v": [variant]}}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        self.window.connects += 1
        return ws

    async def churn_once(self, abrupt: bool) -> None:
        started = time.perf_counter()
        try:
            ws = await self.subscribe(self.rng.choice(self.catalog.variants))
            await asyncio.sleep(self.rng.random() * 0.5)
            if abrupt:
                ws.transport.abort()
            else:
                await ws.close()
            failed = False
        except (OSError, websockets.WebSocketException, TimeoutError):
            failed = True
        self.window.requests += 1
        self.window.errors += failed
        self.window.kinds["churn"] = self.window.kinds.get("churn", 0) + 1
        self.window.latencies.append(time.perf_counter() - started)

    async def held(self, stop: asyncio.Event) -> None:
        """One long-held subscription, hearing pushes until told to leave."""
        try:
            ws = await self.subscribe(self.rng.choice(self.catalog.variants))
        except (OSError, websockets.WebSocketException, TimeoutError):
            self.window.errors += 1
            return
        try:
            while not stop.is_set():
                try:
                    message = await asyncio.wait_for(ws.recv(), timeout=1)
                except TimeoutError:
                    continue
                if json.loads(message).get("type") == "next":
                    self.window.pushes += 1
        except websockets.WebSocketException:
            self.window.errors += 1
        finally:
            await ws.close()

    # --- The run ---

    async def run(self) -> list[dict[str, Any]]:
        args = self.args
        started = time.monotonic()
        self.deadline = started + args.minutes * 60
        held: list[tuple[asyncio.Event, asyncio.Task[None]]] = []

        def hold() -> None:
            stop = asyncio.Event()
            held.append((stop, asyncio.create_task(self.held(stop))))

        for _ in range(args.held):
            hold()
        limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
        async with httpx.AsyncClient(base_url=self.server.url(""), timeout=60, limits=limits) as client:
            workers = [asyncio.create_task(self.client_loop(client)) for _ in range(args.clients)]
            rows: list[dict[str, Any]] = []
            tick = started
            while time.monotonic() < self.deadline:
                tick += args.interval
                await asyncio.sleep(max(0.0, min(tick, self.deadline) - time.monotonic()))
                window, self.window = self.window, Window()
                rows.append(self.row(window, time.monotonic() - started, args.interval))
                print(format_row(rows[-1]), flush=True)
                for stop, _ in held[: max(1, args.held // 10)]:  # churn a tenth of the held ones
                    stop.set()
                del held[: max(1, args.held // 10)]
                for _ in range(max(1, args.held // 10)):
                    hold()
            await asyncio.gather(*workers)
        for stop, _ in held:
            stop.set()
        await asyncio.gather(*(task for _, task in held))
        return rows

    def row(self, window: Window, elapsed: float, seconds: float) -> dict[str, Any]:
        latencies = sorted(window.latencies)

        def pct(p: float) -> float:
            return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0.0

        return {
            "t": round(elapsed),
            "rps": window.requests / seconds,
            "errors": window.errors / window.requests if window.requests else 0.0,
            "user_errors": window.user_errors,
            "p50": pct(0.50),
            "p99": pct(0.99),
            "rss": rss_mib(self.server),
            "subscriptions": metric(self.server, "omnigate_active_subscriptions"),
            "connects": window.connects,
            "pushes": window.pushes,
            "load": load_average().split()[0],
        }


def rss_mib(server: Server) -> float:
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) / 1024 if found else 0.0


def metric(server: Server, name: str) -> int:
    with urllib.request.urlopen(server.url("/metrics"), timeout=30) as answer:
        found = re.search(rf"^{name} (\S+)$", answer.read().decode(), re.MULTILINE)
    return int(float(found.group(1))) if found else -1


HEADER = ("| t (s) | req/s | errors | userErrors | p50 ms | p99 ms | RSS MiB | subscriptions "
          "| ws connects | pushes | load 1m |")  # fmt: skip


def format_row(r: dict[str, Any]) -> str:
    return (
        f"| {r['t']} | {r['rps']:.0f} | {r['errors']:.2%} | {r['user_errors']} | {r['p50']:.1f} "
        f"| {r['p99']:.1f} | {r['rss']:.1f} | {r['subscriptions']} | {r['connects']} | {r['pushes']} "
        f"| {r['load']} |"
    )


def summary(rows: list[dict[str, Any]]) -> list[str]:
    """RSS levels off when, over the last third of the run, it rises less than 2%: caches fill
    early (the response cache keeps 5,000 answers), so the first minutes always grow."""
    last = rows[-max(2, len(rows) // 3) :]
    start, peak = last[0]["rss"], max(r["rss"] for r in last)
    rising = (peak - start) / start
    return [
        f"- requests: {sum(r['rps'] for r in rows) / len(rows):.0f}/s on average; "
        f"errors {max(r['errors'] for r in rows):.2%} at worst in a window",
        f"- RSS: {rows[0]['rss']:.1f} MiB after {rows[0]['t']} s, {max(r['rss'] for r in rows):.1f} MiB at "
        f"most; over the last third ({last[0]['t']}-{last[-1]['t']} s) {start:.1f} to at most {peak:.1f} MiB "
        f"({rising:+.1%}): " + ("levels off" if rising < 0.02 else "STILL GROWING"),
    ]


def write_results(block: str, path: Path = RESULTS) -> None:
    """Replace the soak block of RESULTS.md, or append it."""
    text = path.read_text() if path.exists() else ""
    section = f"{START}\n{block.rstrip()}\n{END}"
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    path.write_text(text)


def load_catalog(server: Server) -> Catalog:
    query = """{ products(first: 250) { nodes { handle category variants { id } } }
                 locations(first: 50, kind: STORE) { nodes { id pickupEnabled } } }"""
    body = json.dumps({"query": query}).encode()
    request = urllib.request.Request(server.url("/graphql"), body, {"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        data = json.loads(answer.read())["data"]
    products = data["products"]["nodes"]
    return Catalog(
        handles=[p["handle"] for p in products],
        categories=sorted({p["category"] for p in products}),
        variants=[v["id"] for p in products for v in p["variants"]],
        stores=[loc["id"] for loc in data["locations"]["nodes"] if loc["pickupEnabled"]],
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between rows")
    parser.add_argument("--clients", type=int, default=12, help="concurrent HTTP clients")
    parser.add_argument("--held", type=int, default=100, help="subscriptions held open")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    parser.add_argument(
        "--setting", action="append", default=[], metavar="NAME=VALUE",
        help="a gateway setting for this run, e.g. response_cache=false (GATEWAY_RESPONSE_CACHE)",
    )  # fmt: skip
    args = parser.parse_args(argv)

    work = ROOT / "bench" / ".work" / "soak"
    data_dir = work / "data"
    prepare_database(data_dir)
    load_before, began, revision = load_average(), datetime.now(UTC), commit()
    with Servers(work / "logs") as servers:
        settings = dict(s.split("=", 1) for s in args.setting)
        server = servers.gateway(
            "gateway", data_dir, integration_token=TOKEN, reservation_sweep_seconds="30", **settings
        )
        server.wait_ready()
        catalog = load_catalog(server)
        print(HEADER, flush=True)
        rows = asyncio.run(Soak(server, catalog, args).run())
    lines = summary(rows)
    print("\n".join(lines))
    if args.no_write:
        return
    block = "\n".join([
        "## Soak",
        "",
        f"`python -m bench.soak --minutes {args.minutes:g}`: one gateway process (one uvicorn worker, "
        f"the embedded SQLite demo), {args.clients} HTTP clients (browse 70%, cart 20%, checkout 5%, "
        f"subscription connect/disconnect 5%, every other one abrupt) and {args.held} subscriptions held "
        f"open, a tenth replaced every {args.interval:g} s; the client runs on the same 2 cores."
        + (f" Settings: {', '.join(args.setting)}." if args.setting else ""),
        f"Run {began:%Y-%m-%d %H:%M} UTC, commit {revision}, {machine()}; "
        f"load average {load_before} before, {load_average()} after (a shared machine).",
        "",
        HEADER,
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(format_row(r) for r in rows),
        "",
        *lines,
    ])  # fmt: skip
    write_results(block)
    print(f"wrote the soak block of {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
