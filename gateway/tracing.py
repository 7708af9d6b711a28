"""OpenTelemetry tracing, optional (`pip install 'omnigate[otel]'`, GATEWAY_TRACING=true).

Strawberry's own OpenTelemetryExtension traces the standard path: a span per operation, with
parsing, validation and a span per resolver (so the resolvers that call upstreams show up);
the compiled path gets one span per operation here. Nothing of OpenTelemetry is imported
unless tracing is on, so it costs nothing when off or not installed. Exporters are configured
the usual way (the SDK's environment variables, or opentelemetry-instrument).
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager, nullcontext
from typing import Any

log = logging.getLogger("omnigate.tracing")


class Tracing:
    def __init__(self, enabled: bool) -> None:
        self.extension: Any = None
        self._tracer: Any = None
        if not enabled:
            return
        try:
            from opentelemetry import trace
            from strawberry.extensions.tracing import OpenTelemetryExtension
        except ImportError:
            log.warning(
                "GATEWAY_TRACING is on but OpenTelemetry is not installed: pip install 'omnigate[otel]'"
            )
            return
        self.extension = OpenTelemetryExtension
        self._tracer = trace.get_tracer("omnigate")

    def span(self, name: str, **attributes: Any) -> AbstractContextManager[Any]:
        if self._tracer is None:
            return nullcontext()
        return self._tracer.start_as_current_span(name, attributes=attributes)
