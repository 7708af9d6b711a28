"""Authentication: one Starlette backend from a request's credentials to a Principal.

It knows integration tokens (systems of record, each with its scopes; the single
`GATEWAY_INTEGRATION_TOKEN` posts stock counts and receipts), partner API keys
(kept as sha256 digests, never in clear, each with a name and scopes; sent as `X-API-Key` or as a
bearer token), member and staff JWTs (gateway/identity/tokens.py), and configured static bearer tokens for
staff and members (for kiosks and tests). What a principal may do is decided in
`schema/permissions.py`, not here.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from datetime import timedelta

from pydantic import SecretStr
from starlette.authentication import AuthCredentials, AuthenticationBackend, AuthenticationError
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, Response

from gateway.identity.tokens import InvalidToken, JwksKeys, TokenIssuer, TokenVerifier, looks_like_jwt
from gateway.settings import Settings
from resolvers.principal import ANONYMOUS, INTEGRATION_DEFAULT_SCOPES, Principal, PrincipalKind

# GATEWAY_INTEGRATION_TOKEN: stock counts and receipts, nothing else (GATEWAY_INTEGRATIONS
# configures integrations that need more, each with its scopes).
INTEGRATION = Principal(PrincipalKind.INTEGRATION, subject="integration", scopes=INTEGRATION_DEFAULT_SCOPES)


def _digest(token: str) -> bytes:
    # Looked up by digest: no token is compared byte by byte, so timing tells nothing of it.
    return hashlib.sha256(token.encode()).digest()


def principals_from(settings: Settings) -> dict[bytes, Principal]:
    """Every credential the settings know, by the sha256 of the token a caller sends."""
    found: dict[bytes, Principal] = {}
    if settings.integration_token:
        found[_digest(settings.integration_token.get_secret_value())] = INTEGRATION
    for name, integration in settings.integrations.items():
        found[bytes.fromhex(integration.sha256)] = Principal(
            PrincipalKind.INTEGRATION,
            subject=f"integration:{name}",
            scopes=frozenset(scope.value for scope in integration.scopes),
        )
    for name, key in settings.partner_keys.items():
        found[bytes.fromhex(key.sha256)] = Principal(
            PrincipalKind.PARTNER, subject=f"partner:{name}", scopes=frozenset(key.scopes)
        )
    for staff in settings.staff_tokens:
        found[_digest(staff.token.get_secret_value())] = Principal(
            PrincipalKind.STAFF,
            subject=staff.subject,
            location_ids=frozenset(staff.location_ids),
            scopes=frozenset(scope.value for scope in staff.scopes),
        )
    for member in settings.member_tokens:
        found[_digest(member.token.get_secret_value())] = Principal(
            PrincipalKind.MEMBER, subject=f"member:{member.member_id}", member_id=member.member_id
        )
    return found


log = logging.getLogger("omnigate.auth")
SIGNING_KEY_FILE = "jwt-secret"


def with_local_signing_key(settings: Settings) -> Settings:
    """On the embedded default (dev mode, SQLite in the data folder, no JWT settings), the
    gateway signs its own tokens (`memberLogin` with the demo accounts, `omnigate token`) with a
    key it creates in its data folder on first start and keeps there (mode 0600). Never in
    production mode, nor when a database, a secret or an identity provider's JWKS is set."""
    if (
        settings.jwt_secret is not None
        or settings.jwt_jwks is not None
        or settings.database_url is not None
        or not settings.dev_mode
    ):
        return settings
    path = settings.data_dir / SIGNING_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside, then linked in place: workers starting together all read one whole key.
        draft = path.with_name(f".{SIGNING_KEY_FILE}.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(draft, path)
            log.info("created a signing key for the gateway's tokens in %s (dev mode only)", path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            draft.unlink()
    key = path.read_text().strip()
    if not key:
        return settings
    return settings.model_copy(update={"jwt_secret": SecretStr(key)})


def verifier_from(settings: Settings) -> TokenVerifier:
    return TokenVerifier(
        secret=settings.jwt_secret.get_secret_value() if settings.jwt_secret else None,
        jwks=JwksKeys(settings.jwt_jwks, refetch_interval=settings.jwt_jwks_refetch_seconds)
        if settings.jwt_jwks
        else None,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )


def issuer_from(settings: Settings) -> TokenIssuer | None:
    """The gateway issues tokens only when it holds the HS256 secret."""
    if settings.jwt_secret is None:
        return None
    return TokenIssuer(
        settings.jwt_secret.get_secret_value(),
        timedelta(minutes=settings.jwt_ttl_minutes),
        settings.jwt_issuer,
        settings.jwt_audience,
    )


class TokenBackend(AuthenticationBackend):
    def __init__(
        self,
        principals: dict[bytes, Principal],
        verifier: TokenVerifier | None = None,
        max_chars: int = 8192,
    ) -> None:
        self._principals = principals
        self._verifier = verifier or TokenVerifier()
        self._max_chars = max_chars  # no credential the gateway knows is longer

    def _check_length(self, credential: str) -> None:
        # Refused before it is hashed or parsed as a JWT: a long one costs work and names nobody.
        if len(credential) > self._max_chars:
            raise AuthenticationError(f"the credential is too long (at most {self._max_chars} characters)")

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, Principal]:
        api_key = conn.headers.get("x-api-key")
        authorization = conn.headers.get("authorization")
        if api_key is not None:
            self._check_length(api_key)
            principal = self._principals.get(_digest(api_key.strip()))
            if principal is None or principal.kind is not PrincipalKind.PARTNER:
                raise AuthenticationError("the API key is not valid")
            return AuthCredentials(sorted(principal.scopes)), principal
        principal = await self.principal_for_authorization(authorization)
        return AuthCredentials(sorted(principal.scopes)), principal

    async def principal_for_authorization(self, authorization: str | None) -> Principal:
        """Who an `Authorization` value names: the same entry of a websocket's connection_init
        payload as of an HTTP request. AuthenticationError for a malformed or unknown one."""
        if not authorization:
            return ANONYMOUS
        self._check_length(authorization)
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationError("the Authorization header must be `Bearer <token>`")
        return await self.principal_for(token)

    async def principal_for(self, token: str) -> Principal:
        """Whoever a bearer token names (also for a websocket's `connection_init` payload);
        AuthenticationError when it names nobody or has expired."""
        self._check_length(token)
        principal = self._principals.get(_digest(token))
        if principal is None and looks_like_jwt(token) and self._verifier.enabled:
            try:
                principal = await self._verifier.principal(token)
            except InvalidToken as exc:
                raise AuthenticationError(str(exc)) from exc
        if principal is None:
            raise AuthenticationError("the bearer token is not valid")
        return principal


def unauthenticated(_conn: HTTPConnection, exc: Exception) -> Response:
    body = {"errors": [{"message": str(exc), "extensions": {"code": "UNAUTHENTICATED"}}]}
    return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})


def connection_authorization(payload: dict[str, object] | None) -> str | None:
    """The `Authorization` entry of a connection_init payload, in any case (GraphiQL's headers
    editor sends `{"Authorization": "Bearer ..."}`); a non-string one counts as malformed."""
    for key, value in (payload or {}).items():
        if key.lower() == "authorization":
            return value if isinstance(value, str) else "malformed"
    return None
