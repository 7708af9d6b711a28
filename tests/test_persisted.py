"""Automatic persisted queries, and trusted documents in enforce and log modes."""

import json
import os
import uuid

import pytest

from gateway.protections.persisted import sha256
from tests.helpers import PARTNER_KEY, PARTNERS, bearer, gateway

REDIS_URL = os.environ.get("GATEWAY_TEST_REDIS_URL")
TITLES = "query Titles { products(first: 2) { nodes { title } } }"
TRUSTED = "query Trusted { products(first: 1) { nodes { handle } } }"


def apq(digest, query=None):
    body = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}
    if query is not None:
        body["query"] = query
    return body


async def test_apq_registers_a_document_then_runs_it_by_hash(api):
    digest = sha256(TITLES)
    missing = await api.client.post("/graphql", json=apq(digest))
    assert missing.status_code == 200
    assert missing.json()["errors"] == [
        {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
    ]
    registered = (await api.client.post("/graphql", json=apq(digest, TITLES))).json()
    by_hash = (await api.client.post("/graphql", json=apq(digest))).json()
    assert by_hash["data"] == registered["data"]
    assert len(by_hash["data"]["products"]["nodes"]) == 2
    params = {"extensions": json.dumps(apq(digest)["extensions"])}
    get = await api.client.get("/graphql", params=params, headers={"Accept": "application/json"})
    assert get.json()["data"] == registered["data"]


async def test_the_hash_must_match_the_text(api):
    body = (await api.client.post("/graphql", json=apq("0" * 64, TITLES))).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_persisted_document_meets_the_same_limits(database_url):
    async with gateway(database_url, max_cost=2) as api:
        digest = sha256(TITLES)
        body = (await api.client.post("/graphql", json=apq(digest, TITLES))).json()
        assert body["errors"][0]["extensions"]["cost"]["requested"] == 3


@pytest.mark.skipif(not REDIS_URL, reason="GATEWAY_TEST_REDIS_URL is not set")
async def test_apq_through_redis_is_shared_by_every_process(database_url):
    prefix = f"omnigate-test-{uuid.uuid4().hex[:8]}:"
    async with (
        gateway(database_url, redis_url=REDIS_URL, redis_prefix=prefix) as a,
        gateway(database_url, redis_url=REDIS_URL, redis_prefix=prefix) as b,
    ):
        digest = sha256(TITLES)
        await a.client.post("/graphql", json=apq(digest, TITLES))
        assert "data" in (await b.client.post("/graphql", json=apq(digest))).json()


@pytest.fixture
def manifest(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({sha256(TRUSTED): TRUSTED}))
    return path


async def test_enforce_mode_runs_only_the_manifest(database_url, manifest):
    async with gateway(database_url, trusted_documents=manifest, partner_keys=PARTNERS) as api:
        by_hash = (await api.client.post("/graphql", json=apq(sha256(TRUSTED)))).json()
        by_text = (await api.client.post("/graphql", json={"query": TRUSTED})).json()
        assert by_hash["data"] == by_text["data"] and by_hash["data"]["products"]["nodes"]
        before = api.store.statements
        for body in ({"query": TITLES}, apq(sha256(TITLES), TITLES)):
            refused = (await api.client.post("/graphql", json=body)).json()
            assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        get = await api.client.get("/graphql", params={"query": TITLES})
        assert get.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert api.store.statements == before
        assert api.gateway.protections.persisted.untrusted == 3
        # Partners write their own documents.
        assert (await api.data(TITLES, **bearer(PARTNER_KEY)))["products"]["nodes"]


async def test_log_mode_runs_everything_and_counts_the_untrusted(database_url, manifest, caplog):
    async with gateway(database_url, trusted_documents=manifest, trusted_documents_mode="log") as api:
        assert (await api.data(TITLES))["products"]["nodes"]
        assert (await api.data(TRUSTED))["products"]["nodes"]
        assert api.gateway.protections.persisted.untrusted == 1
        assert sha256(TITLES) in caplog.text


def test_a_manifest_with_a_wrong_hash_is_refused_at_start(tmp_path):
    from gateway.protections.persisted import load_manifest

    path = tmp_path / "m.json"
    path.write_text(json.dumps({"0" * 64: TRUSTED}))
    with pytest.raises(ValueError, match="do not match"):
        load_manifest(path)
    path.write_text(json.dumps({"format": "apollo-persisted-query-manifest", "version": 1, "operations": [
        {"id": sha256(TRUSTED), "name": "Trusted", "type": "query", "body": TRUSTED}]}))  # fmt: skip
    assert load_manifest(path) == {sha256(TRUSTED): TRUSTED}
