"""Bearer JWTs: verifying members' and staff's tokens, and issuing the gateway's own.

Two ways to trust a token, chosen by settings: an HS256 shared secret (the embedded default;
the gateway issues these itself, `memberLogin` and `omnigate token`), or RS256 keys from a JWKS
file or URL with issuer and audience checks (the retailer's identity provider issues them).
Claims: `sub` is the member id (or a staff name); `role` is `member` (the default) or `staff`,
and staff tokens carry `locations`, the ids of the stores and warehouses they work at, and
optionally `scopes`, their roles (`analytics:read`, `support:read`, ...: `STAFF_SCOPES`; any other
scope a staff token names grants nothing).
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt

from resolvers.principal import STAFF_SCOPES, Principal, PrincipalKind


class InvalidToken(Exception):
    """Expired, badly signed, or not one of ours: the caller is not authenticated."""


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


class JwksKeys:
    """RS256 public keys by `kid`, from a file or a URL. A URL is read again after `ttl`, and
    sooner when a token names a key it has not seen (the provider rotated its keys), but then at
    most once per `refetch_interval`: a `kid` is the caller's to choose, so forged tokens must
    not turn into a storm of fetches. Requests that need a fetch at the same moment share it."""

    def __init__(self, source: str, ttl: float = 600.0, refetch_interval: float = 60.0) -> None:
        self.source = source
        self.ttl = ttl
        self.refetch_interval = refetch_interval
        self.fetches = 0
        self._keys: dict[str | None, Any] = {}
        self._tried_at = -math.inf  # monotonic time of the last fetch, whether it worked or not
        self._lock = asyncio.Lock()

    async def _load(self) -> None:
        self.fetches += 1
        if self.source.startswith(("http://", "https://")):
            async with httpx.AsyncClient(timeout=5.0) as client:
                response = await client.get(self.source)
                response.raise_for_status()
                document = response.json()
        else:
            # A small local file, read rarely: not worth a thread.
            document = json.loads(Path(self.source).read_text())  # noqa: ASYNC240
        keys = jwt.PyJWKSet.from_dict(document).keys
        self._keys = {key.key_id: key.key for key in keys}

    async def _refresh(self, seen: float) -> None:
        async with self._lock:
            if self._tried_at != seen:
                return  # another request fetched while this one waited: use what it found
            self._tried_at = time.monotonic()
            try:
                await self._load()
            except (OSError, ValueError, httpx.HTTPError, jwt.PyJWTError) as exc:
                if not self._keys:
                    raise InvalidToken("the signing keys cannot be read") from exc

    async def key_for(self, kid: str | None) -> Any:
        seen = self._tried_at
        known = kid in self._keys or (kid is None and len(self._keys) == 1)
        if time.monotonic() - seen >= (self.ttl if known else self.refetch_interval):
            await self._refresh(seen)
        if not self._keys:
            raise InvalidToken("the signing keys cannot be read")
        if kid in self._keys:
            return self._keys[kid]
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        raise InvalidToken("the token is signed with an unknown key")


class TokenVerifier:
    def __init__(
        self,
        secret: str | None = None,
        jwks: JwksKeys | None = None,
        issuer: str | None = None,
        audience: str | None = None,
        leeway_s: float = 30.0,
    ) -> None:
        self.secret = secret
        self.jwks = jwks
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway_s

    @property
    def enabled(self) -> bool:
        return self.secret is not None or self.jwks is not None

    async def principal(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
            algorithm = header.get("alg")
            if algorithm == "HS256" and self.secret is not None:
                key: Any = self.secret
            elif algorithm == "RS256" and self.jwks is not None:
                key = await self.jwks.key_for(header.get("kid"))
            else:
                raise InvalidToken("the token's algorithm is not accepted")
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                issuer=self.issuer,
                audience=self.audience,
                leeway=self.leeway,
                options={"require": ["exp", "sub"], "verify_aud": self.audience is not None},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("the token has expired") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken("the bearer token is not valid") from exc
        return principal_of(claims)


def principal_of(claims: dict[str, Any]) -> Principal:
    subject = str(claims["sub"])
    role = claims.get("role", "member")
    if role == "staff":
        locations = claims.get("locations")
        if not isinstance(locations, list) or not all(type(x) is int for x in locations):
            raise InvalidToken("a staff token lists the ids of its locations")
        scopes = claims.get("scopes", [])
        if not isinstance(scopes, list) or not all(isinstance(x, str) for x in scopes):
            raise InvalidToken("a staff token's scopes are a list of names")
        return Principal(
            PrincipalKind.STAFF,
            subject=f"staff:{subject}",
            location_ids=frozenset(locations),
            scopes=frozenset(scopes) & STAFF_SCOPES,
        )
    if role != "member":
        raise InvalidToken("the token's role is not known")
    return Principal(PrincipalKind.MEMBER, subject=f"member:{subject}", member_id=subject)


class TokenIssuer:
    """HS256 tokens signed with the configured secret (`memberLogin`, `omnigate token`)."""

    def __init__(self, secret: str, ttl: timedelta, issuer: str | None, audience: str | None) -> None:
        self.secret = secret
        self.ttl = ttl
        self.issuer = issuer
        self.audience = audience

    def issue(self, subject: str, now: float | None = None, **claims: Any) -> str:
        issued = int(time.time() if now is None else now)
        body: dict[str, Any] = {"sub": subject, "iat": issued, "exp": issued + int(self.ttl.total_seconds())}
        if self.issuer:
            body["iss"] = self.issuer
        if self.audience:
            body["aud"] = self.audience
        return jwt.encode({**body, **claims}, self.secret, algorithm="HS256")

    def member(self, member_id: str) -> str:
        return self.issue(member_id, role="member")

    def staff(self, name: str, location_ids: list[int], scopes: list[str] | None = None) -> str:
        if scopes:
            return self.issue(name, role="staff", locations=location_ids, scopes=scopes)
        return self.issue(name, role="staff", locations=location_ids)
