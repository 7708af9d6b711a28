"""An upstream 100 ms away: what the read model saves.

SAP's OData mock server (tests/odata, loaded with 60 products of the demo retailer: 60
configurable products, their materials, stock at 3 plants) behind a loopback proxy that waits
100 ms before every request. The gateway runs in this process over an empty SQLite read model, with
catalog and inventory from that upstream.

- cold: the read model is empty; the first full sync (what a first product page would have
  to wait for) and the page after it;
- warm: the product page from the read model, and its upstream calls (none);
- page sizes: a warm GraphQL page of N products vs. fetching the same N products from the
  upstream through the adapter's batch calls, and vs. one request per product.

Run: `python -m bench.upstream` (needs `npm ci` in tests/odata). Prints its figures.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from adapters.odata import ODataConfig
from adapters.odata import connect as connect_odata
from adapters.resilience import ResiliencePolicy
from gateway.app import create_app
from gateway.settings import Settings
from tests.odata.make_mock import main as write_mock
from tests.upstreams.odata import PLANTS, missing, start_odata
from tests.upstreams.proxy import FaultyProxy

DELAY = 0.100
PAGE = """
query ($n: Int!) { products(first: $n) { nodes { title
  variants { sku price { amount } quantityAvailable inventory { available location { name } } }
} } }"""
SIZES = (1, 5, 20, 50)
PRODUCTS = 60  # the mock's $filter is linear in rows x terms: keep its own CPU small


async def timed(work):
    started = time.perf_counter()
    result = await work
    return result, (time.perf_counter() - started) * 1000


async def main() -> None:
    reason = missing()
    if reason:
        raise SystemExit(reason)
    work = Path(tempfile.mkdtemp(prefix="omnigate-bench-"))
    write_mock(work / "mock", count=PRODUCTS)
    server = start_odata(str(work / "mock"))
    proxy = await FaultyProxy(f"http://127.0.0.1:{server.port}").start()
    proxy.delay = DELAY
    upstream = connect_odata(
        ODataConfig(url=proxy.url + "/sap/opu/odata/sap", plants=PLANTS),
        ResiliencePolicy(timeout=120.0),
    )
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{work / 'gateway.db'}",
        seed_demo=False,
        catalog="odata",
        inventory="odata",
        sync_interval_s=0,
        graphiql=False,
    )
    app = create_app(settings, upstreams={"odata": upstream})
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                await run(app.state.gateway, client, upstream, proxy)
    finally:
        await proxy.close()
        server.stop()


async def page(client, n):
    response = await client.post("/graphql", json={"query": PAGE, "variables": {"n": n}})
    body = response.json()
    assert "errors" not in body, body
    return body


async def run(gateway, client, upstream, proxy) -> None:
    guard = upstream.guard
    print(f"upstream: SAP OData mock behind a proxy adding {DELAY * 1000:.0f} ms per call\n")

    calls = guard.calls
    report, sync_ms = await timed(gateway.sync.run_once())
    sync_calls = guard.calls - calls
    _, first_ms = await timed(page(client, 20))
    print("cold (empty read model): first full sync, then a page of 20 products")
    print(
        f"  sync: {sync_ms:8.0f} ms  {sync_calls:3d} upstream calls  "
        f"({report.products} products, {report.levels_changed} stock levels)"
    )
    print(f"  page: {first_ms:8.1f} ms    0 upstream calls  (total {sync_ms + first_ms:.0f} ms)")

    samples = []
    calls = guard.calls
    for _ in range(30):
        samples.append((await timed(page(client, 20)))[1])
    print("warm (read model): the same page, 30 times")
    print(
        f"  page: {statistics.median(samples):8.1f} ms median, "
        f"{max(samples):.1f} ms max, {guard.calls - calls} upstream calls\n"
    )

    calls = guard.calls
    _, poll_ms = await timed(gateway.sync.run_once())
    print(
        f"steady-state poll with nothing changed: {poll_ms:.0f} ms, "
        f"{guard.calls - calls} upstream calls (catalog watermark + stock snapshot pages)\n"
    )

    rows = await upstream.client.get_all(
        "API_PRODUCT_SRV", "A_Product", select=["Product", "CrossPlantConfigurableProduct"]
    )
    generics = sorted({r["Product"] for r in rows if not r["CrossPlantConfigurableProduct"]})
    print("page size: a warm GraphQL page vs. the same N products fetched from the upstream")
    print("(batched: the adapter's $filter-chunked reads; `mock CPU` is the same fetch with the")
    print(" proxy's delay off, i.e. the mock server's own $filter work, not network round trips)")
    print(
        f"  {'N':>4}  {'read model':>16}  {'upstream, batched':>22}  {'mock CPU':>9}  "
        f"{'upstream, per product':>26}"
    )
    for n in SIZES:
        calls = guard.calls
        warm_ms = statistics.median([(await timed(page(client, n)))[1] for _ in range(5)])
        warm_calls = guard.calls - calls
        calls = guard.calls
        _, batched_ms = await timed(fetch_batched(upstream, generics[:n]))
        batched_calls = guard.calls - calls
        proxy.delay = 0
        _, cpu_ms = await timed(fetch_batched(upstream, generics[:n]))
        proxy.delay = DELAY
        if n <= 5:
            calls = guard.calls
            _, naive_ms = await timed(fetch_one_by_one(upstream, generics[:n]))
            naive = f"{naive_ms:7.0f} ms {guard.calls - calls:4d} calls"
        else:
            naive = f"~{n * 3 * DELAY * 1000:6.0f} ms {n * 3:4d} calls (est.)"
        print(
            f"  {n:>4}  {warm_ms:6.1f} ms {warm_calls:2d} calls  "
            f"{batched_ms:7.0f} ms {batched_calls:2d} calls  {cpu_ms:6.0f} ms  {naive:>26}"
        )


async def fetch_batched(upstream, generics):
    """What one page costs an adapter that batches: three $filter-chunked reads."""
    c = upstream.client
    rows = await c.get_by_keys(
        "API_PRODUCT_SRV", "A_Product", "CrossPlantConfigurableProduct", generics
    )
    materials = [r["Product"] for r in rows]
    await c.get_by_keys("API_PRODUCT_SRV", "A_ProductDescription", "Product", generics + materials)
    await c.get_by_keys("API_MATERIAL_STOCK_SRV", "A_MatlStkInAcctMod", "Material", materials)


async def fetch_one_by_one(upstream, generics):
    """The same page without batching: three requests per product."""
    c = upstream.client
    for generic in generics:
        rows = await c.get_all(
            "API_PRODUCT_SRV", "A_Product", filter=f"CrossPlantConfigurableProduct eq '{generic}'"
        )
        await c.get_all("API_PRODUCT_SRV", "A_ProductDescription", filter=f"Product eq '{generic}'")
        materials = " or ".join(f"Material eq '{r['Product']}'" for r in rows)
        await c.get_all("API_MATERIAL_STOCK_SRV", "A_MatlStkInAcctMod", filter=materials)


if __name__ == "__main__":
    asyncio.run(main())
