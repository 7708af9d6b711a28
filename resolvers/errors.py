"""What a use case raises when a request cannot be served; the gateway turns each into an
`extensions.code`. Business failures of a mutation are not here: they are userErrors.

    GatewayError
    ├── BadUserInput        malformed id, cursor, page size, coordinates
    ├── NotFound            a well-formed id or handle that names nothing
    ├── Unauthenticated     no or bad credentials where some are needed
    ├── Forbidden           credentials that do not allow this
    ├── RateLimited
    └── UpstreamUnavailable a system of record did not answer in time
"""

from __future__ import annotations


class GatewayError(Exception):
    code = "INTERNAL"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field  # the argument at fault, when there is one

    @property
    def details(self) -> dict[str, object]:
        """More `extensions` for the client, beyond the code and the field."""
        return {}


class BadUserInput(GatewayError):
    code = "BAD_USER_INPUT"


class NotFound(GatewayError):
    code = "NOT_FOUND"


class Unauthenticated(GatewayError):
    code = "UNAUTHENTICATED"


class Forbidden(GatewayError):
    code = "FORBIDDEN"


class RateLimited(GatewayError):
    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after: int, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after  # seconds

    @property
    def details(self) -> dict[str, object]:
        return {"retryAfter": self.retry_after}


class UpstreamUnavailable(GatewayError):
    code = "UPSTREAM_UNAVAILABLE"
