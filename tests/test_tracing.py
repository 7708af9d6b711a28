"""Tracing through real requests: the caller's trace goes on, SQL, Redis and httpx calls and each
batch resolver call of the compiled path are spans (read from OpenTelemetry's in-memory exporter),
and on its own the gateway installs a tracer provider that ships spans over OTLP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import make_settings, serving
from tests.helpers import gateway, in_memory_spans, stop_tracing

pytest.importorskip("opentelemetry.sdk")


@pytest.fixture(autouse=True, scope="module")
def _no_tracing_after_this_module():
    yield
    stop_tracing()


TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = {"traceparent": f"00-{TRACE_ID}-{CALLER_SPAN}-01"}
LISTING = """query Listing { products(first: 5) { nodes { title
  variants { sku inventory { available location { name } } } } } }"""


def trace_id(span: Any) -> str:
    return format(span.context.trace_id, "032x")


async def test_a_request_continues_the_callers_trace_with_a_span_per_batch_call(database_url: str):
    exporter = in_memory_spans()
    async with gateway(database_url, tracing=True) as api:
        response = await api.client.post("/graphql", json={"query": LISTING}, headers=TRACEPARENT)
        assert response.status_code == 200 and "errors" not in response.json()
    every = exporter.get_finished_spans()
    # The request's spans are in the caller's trace, the outermost one a child of its span
    # (the gateway's start and its background work are traces of their own).
    assert {trace_id(s) for s in every if s.name.startswith("GraphQL")} == {TRACE_ID}
    spans = [s for s in every if trace_id(s) == TRACE_ID]
    names = [s.name for s in spans]
    compiled = next(s for s in spans if s.name == "GraphQL compiled path")
    assert format(compiled.parent.span_id, "016x") == CALLER_SPAN
    # The compiled path: one span per batch call, i.e. per field per level, not per value.
    batches = [s for s in spans if s.name.startswith("GraphQL Resolving: ")]
    for field in ("Query.products", "Product.variants", "ProductVariant.inventory"):
        assert names.count(f"GraphQL Resolving: {field}") == 1, names
    variants = next(s for s in batches if s.name == "GraphQL Resolving: Product.variants")
    assert variants.attributes["omnigate.batch"] == 5  # five products, one call
    assert all(s.parent.span_id == compiled.context.span_id for s in batches if "Query." in s.name)
    # The SQL statements underneath are spans (SQLAlchemy instrumentation), inside the batch calls.
    sql = [s for s in spans if s.attributes.get("db.system") or s.attributes.get("db.system.name")]
    assert sql, names
    batch_ids = {s.context.span_id for s in batches}
    assert any(s.parent is not None and s.parent.span_id in batch_ids for s in sql)


async def test_the_standard_path_continues_the_trace_too(database_url: str):
    exporter = in_memory_spans()
    async with gateway(database_url, tracing=True) as api:
        response = await api.client.get("/graphql", params={"query": "{ categories }"}, headers=TRACEPARENT)
        assert response.status_code == 200
    spans = exporter.get_finished_spans()
    operation = next(s for s in spans if s.name.startswith("GraphQL Query"))
    assert trace_id(operation) == TRACE_ID and format(operation.parent.span_id, "016x") == CALLER_SPAN


@pytest.mark.skipif(not os.environ.get("GATEWAY_TEST_REDIS_URL"), reason="GATEWAY_TEST_REDIS_URL is not set")
async def test_redis_commands_are_spans(database_url: str):
    exporter = in_memory_spans()
    # The shared response cache reads and writes Redis for a cacheable query.
    async with gateway(
        database_url, tracing=True, redis_url=os.environ["GATEWAY_TEST_REDIS_URL"], redis_prefix="trace-test:"
    ) as api:
        response = await api.client.post("/graphql", json={"query": LISTING}, headers=TRACEPARENT)
        assert response.status_code == 200
    redis = [s for s in exporter.get_finished_spans() if s.attributes.get("db.system") == "redis"]
    assert redis and any(trace_id(s) == TRACE_ID for s in redis)


class _Recorder(BaseHTTPRequestHandler):
    """A local HTTP server that answers `document` and keeps each request's path, headers and body."""

    document: bytes = b"{}"
    seen: list[tuple[str, dict[str, str], bytes]]

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        self.seen.append((self.path, dict(self.headers), body))
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(self.document)))
        self.end_headers()
        self.wfile.write(self.document)

    do_GET = do_POST = _answer

    def log_message(self, *_: Any) -> None:
        pass


def _serve(document: bytes) -> tuple[ThreadingHTTPServer, list[tuple[str, dict[str, str], bytes]]]:
    seen: list[tuple[str, dict[str, str], bytes]] = []
    handler = type("Handler", (_Recorder,), {"document": document, "seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, seen


async def test_upstream_http_calls_are_spans_and_carry_the_trace_on(database_url: str):
    exporter = in_memory_spans()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwks = json.dumps({"keys": [{**public, "kid": "k1", "alg": "RS256", "use": "sig"}]}).encode()
    server, seen = _serve(jwks)  # the identity provider's JWKS: an httpx call of the gateway
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
        token = jwt.encode({"sub": "m2", "exp": int(time.time()) + 60}, key, "RS256", headers={"kid": "k1"})
        settings = make_settings(database_url, jwt_secret=None, jwt_jwks=url, tracing=True)
        async with serving(settings) as api:
            headers = {**TRACEPARENT, "authorization": f"Bearer {token}"}
            response = await api.client.post("/graphql", json={"query": "{ me { email } }"}, headers=headers)
            assert response.json()["data"]["me"]["email"]
    finally:
        server.shutdown()
        server.server_close()
    http = [s for s in exporter.get_finished_spans() if s.name == "GET"]
    assert http and trace_id(http[0]) == TRACE_ID
    # The identity provider sees the same trace (httpx sends traceparent on).
    sent = {k.lower(): v for k, v in seen[0][1].items()}
    assert sent["traceparent"].split("-")[1] == TRACE_ID


def test_the_gateway_installs_a_provider_that_exports_over_otlp(tmp_path: Path):
    """No provider set by the host: GATEWAY_TRACING_OTLP_ENDPOINT sends the spans to a collector."""
    collector, seen = _serve(b"")
    code = textwrap.dedent(
        """
        import asyncio, httpx
        from gateway.app import create_app
        from gateway.settings import Settings

        async def main():
            app = create_app(Settings())
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as c:
                    query = "query Titles { products(first: 1) { nodes { title } } }"
                    r = await c.post("/graphql", json={"query": query})
                    assert r.status_code == 200, r.text

        asyncio.run(main())
        """
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "OTEL_"))},
        "GATEWAY_DATA_DIR": str(tmp_path),
        "GATEWAY_TRACING": "true",
        "GATEWAY_TRACING_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.server_address[1]}",
        "GATEWAY_TRACING_SERVICE_NAME": "omnigate-under-test",
    }
    try:
        subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)
    finally:
        collector.shutdown()
        collector.server_close()
    posts = [(path, body) for path, _headers, body in seen if path == "/v1/traces"]
    assert posts, [path for path, _h, _b in seen]
    exported = b"".join(body for _path, body in posts)
    assert b"omnigate-under-test" in exported and b"GraphQL Resolving: Query.products" in exported
