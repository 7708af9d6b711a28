"""Rate limits charged in cost points, before the response cache, per caller, across processes."""

import os
import uuid
from contextlib import AsyncExitStack

import httpx
import pytest

from tests.helpers import PARTNER_KEY, PARTNERS, bearer, gateway

REDIS_URL = os.environ.get("GATEWAY_TEST_REDIS_URL")
FIVE = "{ products(first: 4) { nodes { title } } }"  # costs 1 + 4


def codes(response):
    return [e["extensions"]["code"] for e in response.json().get("errors", [])]


async def test_the_cache_does_not_bypass_the_limit_and_refusals_say_when_to_retry(database_url):
    async with gateway(database_url, rate_limit_anonymous=10, rate_limit_period_seconds=86400) as api:
        first = await api.post(FIVE)
        assert first.status_code == 200 and codes(first) == []
        assert (first.headers["ratelimit-limit"], first.headers["ratelimit-remaining"]) == ("10", "5")
        assert first.headers["ratelimit-policy"] == "10;w=86400"
        cached = await api.post(FIVE)  # served from the response cache, but charged all the same
        assert api.gateway.response_cache.hits == 1
        assert cached.headers["ratelimit-remaining"] == "0"
        before = api.store.statements
        for refused in (await api.post(FIVE), await api.client.get("/graphql", params={"query": FIVE})):
            assert refused.status_code == 429
            assert codes(refused) == ["RATE_LIMITED"]
            assert "data" not in refused.json()
            assert int(refused.headers["retry-after"]) >= 1
            assert refused.headers["ratelimit-remaining"] == "0"
        assert api.store.statements == before
        assert api.gateway.protections.limiter.rejections == 2


async def test_each_caller_has_its_own_bucket(database_url):
    limits = {"rate_limit_anonymous": 5, "rate_limit_partner": 5, "rate_limit_period_seconds": 86400}
    async with gateway(database_url, partner_keys=PARTNERS, **limits) as api:
        assert (await api.post(FIVE)).status_code == 200
        assert (await api.post(FIVE)).status_code == 429
        other_ip = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=api.app, client=("203.0.113.9", 1234)),
            base_url="http://gw.test",
        )
        async with other_ip:
            assert (await other_ip.post("/graphql", json={"query": FIVE})).status_code == 200
        assert (await api.post(FIVE, **bearer(PARTNER_KEY))).status_code == 200
        assert (await api.post(FIVE, **bearer(PARTNER_KEY))).status_code == 429
        for _ in range(3):  # integrations are not limited
            assert (await api.post(FIVE, **api.as_integration())).status_code == 200


async def test_dev_mode_has_no_rate_limit(database_url):
    async with gateway(database_url, rate_limit_anonymous=5, dev=True) as api:
        for _ in range(3):
            response = await api.post(FIVE)
            assert response.status_code == 200 and "ratelimit-limit" not in response.headers


@pytest.mark.skipif(not REDIS_URL, reason="GATEWAY_TEST_REDIS_URL is not set")
async def test_two_processes_share_one_limit_through_redis(database_url):
    prefix = f"omnigate-test-{uuid.uuid4().hex[:8]}:"
    async with AsyncExitStack() as stack:
        a, b = [
            await stack.enter_async_context(
                gateway(
                    database_url,
                    redis_url=REDIS_URL,
                    redis_prefix=prefix,
                    rate_limit_anonymous=12,
                    rate_limit_period_seconds=86400,
                )
            )
            for _ in range(2)
        ]
        assert (await a.post(FIVE)).headers["ratelimit-remaining"] == "7"
        assert (await b.post(FIVE)).headers["ratelimit-remaining"] == "2"
        refused = await a.post(FIVE)
        assert refused.status_code == 429 and codes(refused) == ["RATE_LIMITED"]
        assert (await b.post(FIVE)).status_code == 429
        assert a.gateway.protections.limiter.rejections == b.gateway.protections.limiter.rejections == 1


async def test_an_unreachable_redis_lets_requests_through():
    from redis.asyncio import Redis

    from gateway.protections.rate_limit import RateLimiter
    from resolvers.principal import ANONYMOUS, PrincipalKind

    redis = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    limiter = RateLimiter({PrincipalKind.ANONYMOUS: 5}, redis=redis)
    try:
        assert await limiter.charge(ANONYMOUS, "127.0.0.1", 3) is None
        assert limiter.errors == 1
    finally:
        await redis.aclose()
