"""Authentication: one Starlette backend from a request's credentials to a Principal.

Today it knows the integration token (systems that post stock counts and receipts); member JWTs,
staff tokens and partner API keys plug in here, and nowhere else.
"""

from __future__ import annotations

import hmac

from starlette.authentication import AuthCredentials, AuthenticationBackend, AuthenticationError
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, Response

from resolvers.principal import ANONYMOUS, Principal, PrincipalKind

INTEGRATION = Principal(PrincipalKind.INTEGRATION, subject="integration")


class TokenBackend(AuthenticationBackend):
    def __init__(self, integration_token: str | None) -> None:
        self._integration = integration_token.encode() if integration_token else None

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, Principal]:
        authorization = conn.headers.get("authorization")
        if not authorization:
            return AuthCredentials(), ANONYMOUS
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("the Authorization header must be `Bearer <token>`")
        if self._integration and hmac.compare_digest(token.strip().encode(), self._integration):
            return AuthCredentials(["inventory:write"]), INTEGRATION
        raise AuthenticationError("the bearer token is not valid")


def unauthenticated(_conn: HTTPConnection, exc: Exception) -> Response:
    body = {"errors": [{"message": str(exc), "extensions": {"code": "UNAUTHENTICATED"}}]}
    return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})
