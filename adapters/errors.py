"""What can go wrong talking to an upstream, shared by every adapter's own error tree.

    UpstreamError
    ├── UpstreamUnavailable   down, slow, 5xx, circuit open: retry later, serve the read model
    │   └── UpstreamTimeout
    └── UpstreamRejected      the upstream said no (4xx, a business error): retrying won't help

Each upstream package subclasses these (`TrytonUnavailable(TrytonError, UpstreamUnavailable)`),
so callers catch by meaning and the resilience layer decides what to retry and what trips a breaker.
"""

from __future__ import annotations


class UpstreamError(Exception):
    upstream: str = "upstream"


class UpstreamUnavailable(UpstreamError):
    pass


class UpstreamTimeout(UpstreamUnavailable):
    pass


class UpstreamRejected(UpstreamError):
    pass


class CircuitOpen(UpstreamUnavailable):
    """Calls are refused without trying while the upstream recovers."""
