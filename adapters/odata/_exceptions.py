"""OData errors, as the gateway sees them.

ODataError
├── ODataUnavailable (UpstreamUnavailable)   connection refused, 5xx, timeout
└── ODataRejected (UpstreamRejected)         4xx: a bad request, a business "no"
    ├── ODataNotFound                        404
    └── ODataPreconditionFailed              412: the ETag sent with If-Match is stale
"""

from __future__ import annotations

from adapters.errors import UpstreamError, UpstreamRejected, UpstreamUnavailable


class ODataError(UpstreamError):
    upstream = "odata"


class ODataUnavailable(ODataError, UpstreamUnavailable):
    pass


class ODataRejected(ODataError, UpstreamRejected):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status


class ODataNotFound(ODataRejected):
    pass


class ODataPreconditionFailed(ODataRejected):
    pass
