"""Tryton's errors, as the gateway sees them.

TrytonError
├── TrytonUnavailable (UpstreamUnavailable)   connection refused, 5xx, timeout
├── TrytonAuthError (UpstreamRejected)        login refused
└── TrytonUserError (UpstreamRejected)        Tryton's UserError/AccessError: a business "no"
"""

from __future__ import annotations

from adapters.errors import UpstreamError, UpstreamRejected, UpstreamUnavailable


class TrytonError(UpstreamError):
    upstream = "tryton"


class TrytonUnavailable(TrytonError, UpstreamUnavailable):
    pass


class TrytonAuthError(TrytonError, UpstreamRejected):
    pass


class TrytonUserError(TrytonError, UpstreamRejected):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
