"""The guard around every upstream call, the sync's warnings, webhooks and leadership,
against the in-memory upstream."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import time
import uuid

import pytest

from adapters.errors import CircuitOpen, UpstreamRejected, UpstreamTimeout, UpstreamUnavailable
from adapters.memory import MemoryData
from adapters.memory import connect as connect_memory
from adapters.ports.feeds import UpstreamLevel, UpstreamLocation, UpstreamProduct, UpstreamVariant
from adapters.records import LocationKind, SelectedOption
from adapters.resilience import Guard, ResiliencePolicy
from gateway.upstreams.leader import RedisLeadership

FAST = {"backoff": 0.001, "backoff_max": 0.002}


def counting(*outcomes):
    """An upstream call that fails or succeeds in the given order."""
    calls = []

    async def call():
        outcome = outcomes[min(len(calls), len(outcomes) - 1)]
        calls.append(outcome)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return call, calls


async def test_reads_are_retried_when_the_upstream_is_unavailable():
    guard = Guard("erp", ResiliencePolicy(read_retries=2, **FAST))
    call, calls = counting(UpstreamUnavailable("503"), UpstreamUnavailable("503"), "ok")
    assert await guard.call(call, idempotent=True) == "ok"
    assert len(calls) == 3


async def test_writes_and_refusals_are_not_retried():
    guard = Guard("erp", ResiliencePolicy(read_retries=2, **FAST))
    call, calls = counting(UpstreamUnavailable("503"), "ok")
    with pytest.raises(UpstreamUnavailable):
        await guard.call(call, idempotent=False)
    assert len(calls) == 1
    call, calls = counting(UpstreamRejected("400"), "ok")
    with pytest.raises(UpstreamRejected):
        await guard.call(call, idempotent=True)
    assert len(calls) == 1


async def test_a_slow_call_times_out():
    guard = Guard("erp", ResiliencePolicy(timeout=0.05, read_retries=0))

    async def slow():
        await asyncio.sleep(1)

    with pytest.raises(UpstreamTimeout, match=r"within 0\.05 s"):
        await guard.call(slow, idempotent=True)
    assert guard.health.last_error and not guard.health.available


async def test_the_circuit_opens_after_the_threshold_and_refusals_do_not_count():
    guard = Guard("erp", ResiliencePolicy(read_retries=0, breaker_threshold=2, breaker_reset=60))
    rejected, _ = counting(UpstreamRejected("404"))
    for _ in range(3):
        with pytest.raises(UpstreamRejected):
            await guard.call(rejected, idempotent=True)
    assert guard.health.breaker == "closed"
    down, calls = counting(UpstreamUnavailable("down"))
    for _ in range(2):
        with pytest.raises(UpstreamUnavailable):
            await guard.call(down, idempotent=True)
    with pytest.raises(CircuitOpen):
        await guard.call(down, idempotent=True)
    assert len(calls) == 2 and guard.health.breaker == "opened"


async def test_calls_in_flight_are_capped():
    guard = Guard("erp", ResiliencePolicy(concurrency=2))
    in_flight, peak = 0, 0

    async def call():
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1

    await asyncio.gather(*(guard.call(call, idempotent=True) for _ in range(10)))
    assert peak == 2


def memory_data():
    return MemoryData(
        products=[
            UpstreamProduct(
                "P1",
                "Memory Jacket",
                "",
                "Jackets",
                "",
                (UpstreamVariant("V1", "MEM-1", "M", (SelectedOption("Size", "M"),), None),),
            )
        ],
        locations=[UpstreamLocation("L1", "MEM-STORE", "Memory Store", LocationKind.STORE)],
        levels=[UpstreamLevel("MEM-1", "MEM-STORE", 4)],
    )


@pytest.fixture
async def memory_api(make_api):
    upstream = connect_memory(memory_data(), ResiliencePolicy(read_retries=0))
    api = await make_api(
        upstreams={"memory": upstream},
        catalog="memory",
        inventory="memory",
        webhook_secret="hook-secret",
        stale_after_s=60,
    )
    api.upstream = upstream
    return api


async def test_warnings_say_what_is_stale_and_since_when(memory_api):
    api = memory_api
    body = await api.gql("{ products(first: 1) { nodes { title } } }")
    assert {w["message"].split(":")[-1].strip() for w in body["extensions"]["warnings"]} == {
        "not synchronised yet"
    }
    await api.gateway.sync.run_once()
    body = await api.gql("{ products(first: 1) { nodes { title } } }")
    assert body["data"]["products"]["nodes"] == [{"title": "Memory Jacket"}]
    assert "extensions" not in body or "warnings" not in body["extensions"]
    api.upstream.data.down = True
    await api.gateway.sync.run_once()
    body = await api.gql("{ products(first: 1) { nodes { title } } }")
    assert body["data"]["products"]["nodes"] == [{"title": "Memory Jacket"}]
    warnings = body["extensions"]["warnings"]
    assert {(w["code"], w["data"], w["upstream"]) for w in warnings} == {
        ("STALE_DATA", "catalog", "memory"),
        ("STALE_DATA", "inventory", "memory"),
    }
    assert all(w["since"] for w in warnings)


def signed(secret, body, timestamp=None):
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return {
        "X-Omnigate-Timestamp": timestamp,
        "X-Omnigate-Signature": f"sha256={digest.hexdigest()}",
    }


async def until(check, what, tries=300):
    for _ in range(tries):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"gave up waiting: {what}")


TITLES = "{ products(first: 1) { nodes { title } } }"


async def test_a_signed_webhook_polls_even_with_no_polling_loop(memory_api):
    api = memory_api  # GATEWAY_SYNC_INTERVAL_S=0: nothing polls in the background
    assert (await api.data(TITLES))["products"]["nodes"] == []
    body = b'{"event": "stock.changed"}'
    response = await api.client.post("/webhooks/memory", content=body, headers=signed("hook-secret", body))
    assert response.status_code == 202

    async def synced():
        body = await api.gql(TITLES)
        return body["data"]["products"]["nodes"] == [{"title": "Memory Jacket"}] and not (
            body.get("extensions") or {}
        ).get("warnings")

    await until(synced, "the webhook's poll reached the read model")
    assert api.upstream.guard.calls == 3  # catalog, locations, stock: one poll


@pytest.mark.parametrize(
    ("secret", "age", "path", "status"),
    [
        ("wrong-secret", 0, "/webhooks/memory", 401),
        ("hook-secret", 3600, "/webhooks/memory", 401),  # a replay, an hour later
        ("hook-secret", 0, "/webhooks/nobody", 404),
        ("hook-secret", 0, "/webhooks/memory?big", 413),
    ],
)
async def test_webhooks_refuse_bad_signatures_replays_and_strangers(memory_api, secret, age, path, status):
    body = b"x" * (65 * 1024) if path.endswith("?big") else b"{}"
    headers = signed(secret, body, int(time.time()) - age)
    response = await memory_api.client.post(path, content=body, headers=headers)
    assert response.status_code == status
    await asyncio.sleep(0.05)
    assert memory_api.upstream.guard.calls == 0  # nothing polled


REDIS_URL = os.environ.get("GATEWAY_TEST_REDIS_URL")


@pytest.mark.skipif(not REDIS_URL, reason="GATEWAY_TEST_REDIS_URL is not set")
async def test_one_leader_at_a_time_and_a_dead_one_is_replaced():
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_URL)
    name = f"omnigate-test:{uuid.uuid4().hex}"
    first, second = RedisLeadership(redis, name, 0.3), RedisLeadership(redis, name, 0.3)
    assert await first.lead()
    assert not await second.lead()
    assert await first.lead()  # renews
    await asyncio.sleep(0.4)  # the first stops renewing (it died): its lock expires
    assert await second.lead()
    assert not await first.lead()
    await second.resign()
    assert await first.lead()
    await first.resign()
    await redis.aclose()


def test_configuration_names_the_upstream_of_each_role(tmp_path):
    from gateway.settings import Settings
    from gateway.upstreams.connect import connect_upstreams

    settings = Settings(catalog="memory", inventory="memory", orders="memory")
    connected = connect_upstreams(settings)
    assert connected.catalog is connected.inventory is connected.orders
    assert connected.catalog.guard.policy.timeout == settings.upstream_timeout_s
    assert connected.customers is None
    with pytest.raises(ValueError, match="no upstream adapter named 'sap_r3'"):
        connect_upstreams(Settings(catalog="sap_r3"))
    with pytest.raises(ValueError, match="pattern"):
        Settings(inventory="../etc")


@pytest.mark.skipif(not REDIS_URL, reason="GATEWAY_TEST_REDIS_URL is not set")
async def test_two_gateways_on_one_database_poll_one_at_a_time(make_api, tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    prefix = f"t{uuid.uuid4().hex[:8]}:"  # this test's own lock and event channel
    upstreams = [connect_memory(memory_data(), ResiliencePolicy(read_retries=0)) for _ in range(2)]
    apis = [
        await make_api(
            database_url=url,
            upstreams={"memory": upstream},
            catalog="memory",
            inventory="memory",
            redis_url=REDIS_URL,
            redis_prefix=prefix,
            sync_interval_s=30,  # the first poll is at start; later ones only when woken
            webhook_secret="hook-secret",
        )
        for upstream in upstreams
    ]

    async def one_polled():
        return sum(u.guard.calls > 0 for u in upstreams) == 1

    await until(one_polled, "the leader's first poll")
    leader = next(i for i, u in enumerate(upstreams) if u.guard.calls > 0)
    follower = 1 - leader

    async def fresh_everywhere():
        bodies = [await api.gql(TITLES) for api in apis]
        return all(not (b.get("extensions") or {}).get("warnings") for b in bodies)

    # The follower never polls, yet says what the leader managed: no STALE_DATA.
    await until(fresh_everywhere, "every process answers without warnings")
    assert (await apis[follower].data(TITLES))["products"]["nodes"] == [{"title": "Memory Jacket"}]

    # The upstream's load balancer picks the process that does not poll.
    polled = upstreams[leader].guard.calls
    upstreams[leader].data.levels = [UpstreamLevel("MEM-1", "MEM-STORE", 9)]
    body = b"{}"
    headers = signed("hook-secret", body)
    response = await apis[follower].client.post("/webhooks/memory", content=body, headers=headers)
    assert response.status_code == 202

    async def leader_polled():
        return upstreams[leader].guard.calls > polled

    await until(leader_polled, "the leader polled for the follower's webhook")
    assert upstreams[follower].guard.calls == 0
    stock = "{ products(first: 1) { nodes { variants { inventory { onHand } } } } }"

    async def nine_on_hand():
        data = await apis[follower].data(stock)
        return data["products"]["nodes"][0]["variants"][0]["inventory"][0]["onHand"] == 9

    await until(nine_on_hand, "the follower reads what the leader's poll wrote")

    # The leader's failed poll is the follower's warning too.
    upstreams[leader].data.down = True
    response = await apis[follower].client.post("/webhooks/memory", content=body, headers=headers)
    assert response.status_code == 202

    async def stale_at_the_follower():
        warnings = ((await apis[follower].gql(TITLES)).get("extensions") or {}).get("warnings") or []
        return {w["data"] for w in warnings} == {"catalog", "inventory"}

    await until(stale_at_the_follower, "the follower warns of the leader's failed poll")
    assert upstreams[follower].guard.calls == 0


@pytest.mark.skipif(not REDIS_URL, reason="GATEWAY_TEST_REDIS_URL is not set")
async def test_the_leader_lock_key_honours_the_redis_prefix(make_api):
    from redis.asyncio import Redis

    prefix = f"tenant-{uuid.uuid4().hex[:8]}:"
    await make_api(
        upstreams={"memory": connect_memory(memory_data())},
        catalog="memory",
        inventory="memory",
        redis_url=REDIS_URL,
        redis_prefix=prefix,
        sync_interval_s=30,
    )
    redis = Redis.from_url(REDIS_URL)
    try:
        for _ in range(100):  # the loop takes the lead as it starts
            names = {k.decode().split(":")[1] async for k in redis.scan_iter(match=f"{prefix}*")}
            if "read-model-sync" in names:
                break
            await asyncio.sleep(0.02)
        # The first poll's catalog may also bump the shared cache's generations (`gen`), under
        # the same prefix; the lock is what this test looks for.
        assert "read-model-sync" in names
    finally:
        await redis.aclose()


async def test_a_gateway_in_front_of_an_upstream_catalog_seeds_no_demo_products(tmp_path):
    """Dev mode seeds the demo retailer into an empty database, but not beside an ERP's
    catalog: 200 sellable products the ERP has never heard of."""
    import httpx

    from gateway.app import create_app
    from tests.conftest import Api, make_settings

    titles = "{ products(first: 5) { nodes { title } } }"

    async def first_titles(name, upstreams=None, **settings):
        url = f"sqlite+aiosqlite:///{tmp_path / name}.db"
        chosen = make_settings(url, dev=True, sync_interval_s=0, outbox_interval_s=0, **settings)
        app = create_app(chosen.model_copy(update={"seed_demo": None}), upstreams=upstreams)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
                api = Api(app, client)
                before = (await api.data(titles))["products"]["nodes"]
                if app.state.gateway.sync is not None:
                    await app.state.gateway.sync.run_once()
                return before, (await api.data(titles))["products"]["nodes"]

    demo, _ = await first_titles("demo")
    assert len(demo) == 5
    erp = {"memory": connect_memory(memory_data())}
    assert await first_titles("erp", erp, catalog="memory") == ([], [{"title": "Memory Jacket"}])


async def test_an_upstream_url_that_is_the_gateway_itself_is_refused(monkeypatch):
    from gateway.settings import Settings
    from gateway.upstreams.connect import connect_upstreams

    monkeypatch.delenv("GATEWAY_TRYTON_URL", raising=False)
    # trytond's default listener and the gateway's default port are both 8000.
    with pytest.raises(ValueError, match="GATEWAY_TRYTON_URL"):
        connect_upstreams(Settings(catalog="tryton"))
    moved = connect_upstreams(Settings(catalog="tryton", port=8080))
    assert moved.catalog.url == "http://127.0.0.1:8000"
    await moved.aclose()
