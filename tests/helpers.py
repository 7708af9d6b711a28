"""Building gateways with particular settings for a test, over in-process HTTP."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from gateway.app import create_app
from tests.conftest import Api, assert_executors_agreed, make_settings

PARTNER_KEY = "partner-key-with-schema-read"
PLAIN_PARTNER_KEY = "partner-key-without-scopes"
PARTNERS = {
    "acme": {"sha256": hashlib.sha256(PARTNER_KEY.encode()).hexdigest(), "scopes": ["schema:read"]},
    "plain": {"sha256": hashlib.sha256(PLAIN_PARTNER_KEY.encode()).hexdigest(), "scopes": []},
}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@asynccontextmanager
async def gateway(database_url: str, **overrides: Any) -> AsyncIterator[Api]:
    app = create_app(make_settings(database_url, **overrides))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            yield Api(app, client)
    assert_executors_agreed(app.state.gateway)


def in_memory_spans():
    """Spans of this process, in memory. OpenTelemetry lets a provider be set once per process:
    when one is set already (a gateway with tracing on installed it), the exporter joins it."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = getattr(in_memory_spans, "exporter", None)
    if exporter is None:
        exporter = in_memory_spans.exporter = InMemorySpanExporter()  # type: ignore[attr-defined]
        provider = trace.get_tracer_provider()
        if not isinstance(provider, TracerProvider):
            provider = TracerProvider()
            trace.set_tracer_provider(provider)
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    exporter.clear()
    return exporter


def stop_tracing() -> None:
    """After the tracing tests: the instrumentation is process-wide, so the tests after them
    neither make spans nor keep them in memory."""
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    for instrumentor in (HTTPXClientInstrumentor(), RedisInstrumentor(), SQLAlchemyInstrumentor()):
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()
    exporter = getattr(in_memory_spans, "exporter", None)
    if exporter is not None:
        exporter.clear()
