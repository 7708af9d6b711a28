"""Prometheus metrics at /metrics, one registry per app.

Counted as they happen: operations by name, outcome (`ok` or the first error's code) and path
(`compiled`, `cached` or `standard`), with a latency histogram; upstream calls and errors by
adapter (`Metrics.upstream_call`, which every upstream guard calls once per attempt). Read at scrape time
from the objects that keep them: response cache hits and misses, compiled and fallback runs,
rate-limit rejections, untrusted documents, active subscriptions.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class _Readings(Collector):
    def __init__(self, read: Callable[[], Iterable[tuple[str, str, str, float]]]) -> None:
        self.read = read

    def collect(self) -> Iterator[Any]:
        for kind, name, help_text, value in self.read():
            family = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
            yield family(name, help_text, value=value)


class Metrics:
    def __init__(
        self, read: Callable[[], Iterable[tuple[str, str, str, float]]], max_names: int = 200
    ) -> None:
        self.registry = CollectorRegistry()
        self.operations = Counter(
            "omnigate_graphql_operations", "GraphQL operations by name, outcome and path",
            ["operation", "outcome", "path"], registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "omnigate_graphql_operation_seconds", "Time to answer a GraphQL operation",
            ["path"], buckets=_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.upstream_calls = Counter(
            "omnigate_upstream_calls", "Calls to upstream systems by adapter and outcome",
            ["adapter", "outcome"], registry=self.registry,
        )  # fmt: skip
        self.upstream_latency = Histogram(
            "omnigate_upstream_call_seconds", "Time of upstream calls by adapter",
            ["adapter"], buckets=_BUCKETS, registry=self.registry,
        )  # fmt: skip
        # The outbox to the ERP (fed by `OutboxWorker` after each pass, see `outbox`).
        self.outbox_backlog = Gauge(
            "omnigate_outbox_backlog", "Outbox messages waiting for delivery (dead letters not counted)",
            registry=self.registry,
        )  # fmt: skip
        self.outbox_oldest_age = Gauge(
            "omnigate_outbox_oldest_age_seconds", "Age of the oldest outbox message waiting for delivery",
            registry=self.registry,
        )  # fmt: skip
        self.outbox_dead_letters = Gauge(
            "omnigate_outbox_dead_letters", "Outbox messages given up on, waiting for staff to replay",
            registry=self.registry,
        )  # fmt: skip
        self.outbox_failures = Counter(
            "omnigate_outbox_failures", "Failed outbox deliveries, by what followed (retry or dead letter)",
            ["then"], registry=self.registry,
        )  # fmt: skip
        self.registry.register(_Readings(read))
        self._names: set[str] = set()
        self._max_names = max_names

    def name(self, operation: str | None) -> str:
        """Operation names are chosen by callers: keep the label set bounded."""
        if not operation:
            return "anonymous"
        if operation in self._names or len(self._names) < self._max_names:
            self._names.add(operation)
            return operation
        return "other"

    def operation(self, name: str | None, outcome: str, path: str, seconds: float) -> None:
        self.operations.labels(self.name(name), outcome, path).inc()
        self.latency.labels(path).observe(seconds)

    def upstream_call(self, adapter: str, seconds: float, error: BaseException | None = None) -> None:
        self.upstream_calls.labels(adapter, "ok" if error is None else type(error).__name__).inc()
        self.upstream_latency.labels(adapter).observe(seconds)

    def outbox(self, backlog: int, oldest_age_s: float, dead: int) -> None:
        self.outbox_backlog.set(backlog)
        self.outbox_oldest_age.set(oldest_age_s)
        self.outbox_dead_letters.set(dead)

    def outbox_failure(self, dead_lettered: bool) -> None:
        self.outbox_failures.labels("dead_letter" if dead_lettered else "retry").inc()

    def serve_on_port(self, port: int, host: str) -> Callable[[], None]:
        """/metrics on a listener of its own (prometheus_client's, in a thread), off the API's
        port; returns what stops it."""
        server, thread = start_http_server(port, addr=host, registry=self.registry)

        def stop() -> None:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)

        return stop


class Scrapes:
    """`GET /metrics` on the API's port, answered ahead of authentication: Prometheus sends its
    own bearer token (`GATEWAY_METRICS_TOKEN`), which names no caller of the API. Without a
    token the endpoint is public (dev mode, or an operator's explicit GATEWAY_METRICS=true)."""

    def __init__(
        self, app: ASGIApp, metrics: Metrics, token: str | None = None, path: str = "/metrics"
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.expected = f"Bearer {token}".encode() if token else None
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        if self.expected is not None:
            given = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
            if not hmac.compare_digest(given, self.expected):
                refused = Response("metrics need the scrape token\n", 401, {"WWW-Authenticate": "Bearer"})
                await refused(scope, receive, send)
                return
        answer = Response(generate_latest(self.metrics.registry), media_type=CONTENT_TYPE)
        await answer(scope, receive, send)


def outcome(errors: list[Any] | None) -> str:
    """`ok`, or the contract code the first error is (or will be) answered with."""
    if not errors:
        return "ok"
    error = errors[0]
    code = (error.extensions or {}).get("code") or getattr(error.original_error, "code", None)
    return code or ("BAD_USER_INPUT" if error.path is None else "INTERNAL")


class OperationMetrics(SchemaExtension):
    """Counts operations that strawberry's executor answers (HTTP and websockets)."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        ec = self.execution_context
        errors = ec.result.errors if ec.result is not None else ec.pre_execution_errors
        try:
            name = ec.operation_name
        except Exception:  # no single operation in the document
            name = None
        self.metrics.operation(name, outcome(errors), "standard", time.perf_counter() - started)
