"""Authentication: one Starlette backend from a request's credentials to a Principal.

Today it knows the integration token (systems that post stock counts and receipts) and partner
API keys (kept as sha256 digests, never in clear, each with a name and scopes); member JWTs and
staff tokens plug in here, and nowhere else.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence

from starlette.authentication import AuthCredentials, AuthenticationBackend, AuthenticationError
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, Response

from resolvers.principal import ANONYMOUS, Principal, PrincipalKind

INTEGRATION = Principal(PrincipalKind.INTEGRATION, subject="integration")


class TokenBackend(AuthenticationBackend):
    def __init__(
        self,
        integration_token: str | None,
        partner_keys: Mapping[str, tuple[str, Sequence[str]]] | None = None,
    ) -> None:
        self._integration = integration_token.encode() if integration_token else None
        # sha256 hex of the key -> partner principal
        self._partners = {
            digest.lower(): Principal(
                PrincipalKind.PARTNER, subject=f"partner:{name}", scopes=frozenset(scopes)
            )
            for digest, (name, scopes) in (partner_keys or {}).items()
        }

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, Principal]:
        authorization = conn.headers.get("authorization")
        if not authorization:
            return AuthCredentials(), ANONYMOUS
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("the Authorization header must be `Bearer <token>`")
        if self._integration and hmac.compare_digest(token.strip().encode(), self._integration):
            return AuthCredentials(["inventory:write"]), INTEGRATION
        partner = self._partners.get(hashlib.sha256(token.strip().encode()).hexdigest())
        if partner is not None:
            return AuthCredentials(sorted(partner.scopes)), partner
        raise AuthenticationError("the bearer token is not valid")


def unauthenticated(_conn: HTTPConnection, exc: Exception) -> Response:
    body = {"errors": [{"message": str(exc), "extensions": {"code": "UNAUTHENTICATED"}}]}
    return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})
