"""Authentication: one Starlette backend from a request's credentials to a Principal.

It knows the integration token (systems that post stock counts and receipts), partner API keys
(kept as sha256 digests, never in clear, each with a name and scopes) and, until staff and
member sign-in exist, configured bearer tokens for staff (with the locations they work at) and
members. Member JWTs and staff SSO replace `principals_from` and nothing else: what a principal
may do is decided in `schema/permissions.py`.
"""

from __future__ import annotations

import hashlib

from starlette.authentication import AuthCredentials, AuthenticationBackend, AuthenticationError
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, Response

from gateway.settings import Settings
from resolvers.principal import ANONYMOUS, Principal, PrincipalKind

INTEGRATION = Principal(PrincipalKind.INTEGRATION, subject="integration")


def _digest(token: str) -> bytes:
    # Looked up by digest: no token is compared byte by byte, so timing tells nothing of it.
    return hashlib.sha256(token.encode()).digest()


def principals_from(settings: Settings) -> dict[bytes, Principal]:
    """Every credential the settings know, by the sha256 of the token a caller sends."""
    found: dict[bytes, Principal] = {}
    if settings.integration_token:
        found[_digest(settings.integration_token.get_secret_value())] = INTEGRATION
    for name, key in settings.partner_keys.items():
        found[bytes.fromhex(key.sha256)] = Principal(
            PrincipalKind.PARTNER, subject=f"partner:{name}", scopes=frozenset(key.scopes)
        )
    for staff in settings.staff_tokens:
        found[_digest(staff.token.get_secret_value())] = Principal(
            PrincipalKind.STAFF, subject=staff.subject, location_ids=frozenset(staff.location_ids)
        )
    for member in settings.member_tokens:
        found[_digest(member.token.get_secret_value())] = Principal(
            PrincipalKind.MEMBER, subject=f"member:{member.member_id}", member_id=member.member_id
        )
    return found


class TokenBackend(AuthenticationBackend):
    def __init__(self, principals: dict[bytes, Principal]) -> None:
        self._principals = principals

    def principal_for(self, authorization: str | None) -> Principal:
        """Who an `Authorization` value names: an HTTP header, or the same entry of a websocket's
        connection_init payload. Raises AuthenticationError for a malformed or unknown token."""
        if not authorization:
            return ANONYMOUS
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("the Authorization header must be `Bearer <token>`")
        principal = self._principals.get(_digest(token.strip()))
        if principal is None:
            raise AuthenticationError("the bearer token is not valid")
        return principal

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, Principal]:
        principal = self.principal_for(conn.headers.get("authorization"))
        if principal is INTEGRATION:
            return AuthCredentials(["inventory:write"]), principal
        return AuthCredentials(sorted(principal.scopes)), principal


def connection_authorization(payload: dict[str, object] | None) -> str | None:
    """The `Authorization` entry of a connection_init payload, in any case (GraphiQL's headers
    editor sends `{"Authorization": "Bearer ..."}`); a non-string one counts as malformed."""
    for key, value in (payload or {}).items():
        if key.lower() == "authorization":
            return value if isinstance(value, str) else "malformed"
    return None


def unauthenticated(_conn: HTTPConnection, exc: Exception) -> Response:
    body = {"errors": [{"message": str(exc), "extensions": {"code": "UNAUTHENTICATED"}}]}
    return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})
