"""OpenTelemetry tracing, optional (`pip install 'omnigate[otel]'`, GATEWAY_TRACING=true).

With tracing on, the gateway:
- installs a tracer provider, unless the host already set one (opentelemetry-instrument, a test):
  spans go to OTLP/HTTP when `GATEWAY_TRACING_OTLP_ENDPOINT` (or the SDK's own
  OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT) is set, to stdout with `GATEWAY_TRACING_CONSOLE`, else nowhere
  (trace ids still flow to upstreams);
- continues the caller's trace: an incoming W3C `traceparent` (and `tracestate`, `baggage`) is the
  parent of every span of the request (`TraceContext`);
- traces what the request does underneath with OpenTelemetry's instrumentation packages: each
  SQL statement (SQLAlchemy), each upstream call (httpx, which also sends `traceparent` on) and
  each Redis command;
- on the standard path, strawberry's OpenTelemetryExtension: a span per operation, parsing,
  validation and resolver; on the compiled path, a span per operation and one per batch
  resolver call (a level of a listing is one call, `Tracing.batch`).
Nothing of OpenTelemetry is imported unless tracing is on, so it costs nothing when off.
"""

from __future__ import annotations

import logging
import os
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger("omnigate.tracing")

_INSTALL_HINT = "pip install 'omnigate[otel]'"


class Tracing:
    def __init__(
        self,
        enabled: bool,
        *,
        otlp_endpoint: str | None = None,
        console: bool = False,
        service_name: str = "omnigate",
    ) -> None:
        self.extension: Any = None
        self._tracer: Any = None
        self._engine: Any = None
        if not enabled:
            return
        try:
            from opentelemetry import trace
            from strawberry.extensions.tracing import OpenTelemetryExtension
        except ImportError:
            log.warning("GATEWAY_TRACING is on but OpenTelemetry is not installed: %s", _INSTALL_HINT)
            return
        _install_provider(otlp_endpoint, console, service_name)
        _instrument_clients()
        self.extension = OpenTelemetryExtension
        self._tracer = trace.get_tracer("omnigate")

    @property
    def enabled(self) -> bool:
        return self._tracer is not None

    def span(self, name: str, **attributes: Any) -> AbstractContextManager[Any]:
        if self._tracer is None:
            return nullcontext()
        return self._tracer.start_as_current_span(name, attributes=attributes)

    def batch(self, type_name: str, field_name: str, parents: int) -> AbstractContextManager[Any]:
        """The span of one batch resolver call of the compiled path: all parents of a level."""
        return self.span(
            f"GraphQL Resolving: {type_name}.{field_name}",
            **{"graphql.parent_type": type_name, "graphql.field_name": field_name, "omnigate.batch": parents},
        )

    def instrument_engine(self, engine: Any) -> None:
        """A span per SQL statement of the store's engine (an AsyncEngine).

        One gateway runs per process; when a process builds another (tests), the newer engine
        takes over, through the instrumentor's public API."""
        if self._tracer is None:
            return
        try:
            from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
        except ImportError:
            log.warning("tracing: no SQL spans, the SQLAlchemy instrumentation is missing: %s", _INSTALL_HINT)
            return
        instrumentor = SQLAlchemyInstrumentor()
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()
        # The instrumentation declares SQLAlchemy < 2.1 while 2.1 works with it the same (the
        # events it listens to did not change): tests/test_tracing.py checks the SQL spans.
        instrumentor.instrument(engine=engine.sync_engine, skip_dep_check=True)
        self._engine = engine

    def middleware(self) -> type[TraceContext]:
        return TraceContext


def _install_provider(otlp_endpoint: str | None, console: bool, service_name: str) -> None:
    from opentelemetry import trace

    if not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        log.info("tracing: keeping the tracer provider already installed")
        return
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    sdk_endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    if otlp_endpoint or sdk_endpoint:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            log.warning("tracing: an OTLP endpoint is set, the OTLP exporter missing: %s", _INSTALL_HINT)
        else:
            endpoint = otlp_endpoint
            if endpoint is not None and not endpoint.rstrip("/").endswith("/v1/traces"):
                endpoint = endpoint.rstrip("/") + "/v1/traces"  # the base address, as for the SDK
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
            log.info("tracing: spans go to %s", endpoint or sdk_endpoint)
    if console:
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)


def _instrument_clients() -> None:
    """httpx and Redis are instrumented for the process (their client classes)."""
    for module, name in (
        ("opentelemetry.instrumentation.httpx", "HTTPXClientInstrumentor"),
        ("opentelemetry.instrumentation.redis", "RedisInstrumentor"),
    ):
        try:
            instrumentor = getattr(__import__(module, fromlist=[name]), name)()
        except ImportError:
            log.warning("tracing: %s is missing: %s", module, _INSTALL_HINT)
            continue
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument()


class TraceContext:
    """Continues the caller's trace: the W3C trace context of the request's headers is the
    current context while the request runs (HTTP requests and websocket connections)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        from opentelemetry import context, propagate

        carrier: dict[str, str] = {}
        for key, value in scope["headers"]:
            if key in (b"traceparent", b"tracestate", b"baggage"):
                carrier[key.decode("latin-1")] = value.decode("latin-1")
        if not carrier:
            await self.app(scope, receive, send)
            return
        token = context.attach(propagate.extract(carrier))
        try:
            await self.app(scope, receive, send)
        finally:
            context.detach(token)
