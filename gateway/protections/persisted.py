"""Persisted documents: Automatic Persisted Queries and trusted documents.

- APQ (the sha256 protocol of Apollo's clients): a request may send only
  `extensions.persistedQuery.sha256Hash`; an unknown hash is answered `PersistedQueryNotFound`
  (code `PERSISTED_QUERY_NOT_FOUND`, the protocol's own), and the client sends the hash with the
  text, which is checked and stored (in Redis when configured, shared by every process).
- Trusted documents: a manifest of hash -> document, as front-end build tools emit (a plain JSON
  object, or Apollo's `operations` list). In `enforce` mode a caller may run only documents of
  the manifest (by hash or by text); in `log` mode others still run but are logged and counted,
  to roll the mode out safely. Partner keys and integrations write their own documents and are
  not held to the manifest.
The resolved text goes through the one `Documents` cache like any other query.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any, Literal

from graphql import GraphQLError
from redis.asyncio import Redis
from redis.exceptions import RedisError
from strawberry.extensions import SchemaExtension

from resolvers.principal import Principal, PrincipalKind

log = logging.getLogger("omnigate.persisted")
Mode = Literal["off", "log", "enforce"]
EXEMPT = (PrincipalKind.PARTNER, PrincipalKind.INTEGRATION)
SEEN_KEY = "omnigate.untrusted"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def load_manifest(path: Path) -> dict[str, str]:
    raw = json.loads(path.read_text())
    if isinstance(raw, dict) and isinstance(raw.get("operations"), list):
        return {op["id"]: op["body"] for op in raw["operations"]}
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise ValueError(f"{path}: expected a JSON object of hash -> document")
    manifest = {k.removeprefix("sha256:"): v for k, v in raw.items()}
    wrong = [h for h, text in manifest.items() if sha256(text) != h]
    if wrong:
        raise ValueError(f"{path}: {len(wrong)} hashes do not match their documents, e.g. {wrong[0]}")
    return manifest


class PersistedDocuments:
    def __init__(
        self,
        manifest: Mapping[str, str] | None = None,
        mode: Mode = "off",
        apq: bool = True,
        redis: Redis | None = None,
        prefix: str = "omnigate:",
        max_entries: int = 10_000,
        ttl_seconds: int = 7 * 24 * 3600,
    ) -> None:
        self.manifest = dict(manifest or {})
        self.mode = mode
        self.apq = apq
        self.redis = redis
        self.prefix = prefix
        self.ttl = ttl_seconds
        self._local: OrderedDict[str, str] = OrderedDict()
        self._max = max_entries
        self.untrusted = 0  # operations outside the manifest (run in log mode, refused in enforce)

    async def resolve(
        self, query: str | None, extensions: Any, principal: Principal, state: dict[str, Any] | None = None
    ) -> str | None:
        """The text to run, or a GraphQLError raised; None when the request names no document.
        `state` is the request's scope state: an untrusted request is counted and logged once,
        even when the compiled path hands it to the view."""
        persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        digest = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        if persisted is not None and not isinstance(digest, str):
            raise _error("persistedQuery needs a sha256Hash string.", "BAD_USER_INPUT")
        if digest is not None and query is None:
            query = self.manifest.get(digest) or await self._recall(digest)
            if query is None:
                raise _error("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")
        elif digest is not None:
            if sha256(query) != digest:  # type: ignore[arg-type]
                raise _error("provided sha does not match query", "BAD_USER_INPUT")
            if self.apq and digest not in self.manifest and self.mode != "enforce":
                await self._remember(digest, query)  # type: ignore[arg-type]
        if query is not None and self.mode != "off" and principal.kind not in EXEMPT:
            self._check_trusted(digest or sha256(query), principal, state if state is not None else {})
        return query

    def _check_trusted(self, digest: str, principal: Principal, state: dict[str, Any]) -> None:
        if digest in self.manifest:
            return
        if not state.get(SEEN_KEY):
            state[SEEN_KEY] = True
            self.untrusted += 1
            if self.mode == "log":
                log.warning(
                    "untrusted document %s from %s (trusted-documents log mode)", digest, principal.subject
                )
        if self.mode == "log":
            log.warning(
                "untrusted document %s from %s (trusted-documents log mode)", digest, principal.subject
            )
            return
        raise _error("Only trusted documents may run here; this one is not in the manifest.", "FORBIDDEN")

    async def _recall(self, digest: str) -> str | None:
        if not self.apq:
            return None
        if self.redis is None:
            found = self._local.get(digest)
            if found is not None:
                self._local.move_to_end(digest)
            return found
        try:
            raw = await self.redis.get(f"{self.prefix}apq:{digest}")
        except RedisError as exc:
            log.warning("persisted query store unavailable: %s", exc)
            return None
        return raw.decode() if raw is not None else None

    async def _remember(self, digest: str, query: str) -> None:
        if self.redis is None:
            self._local[digest] = query
            if len(self._local) > self._max:
                self._local.popitem(last=False)
            return
        try:
            await self.redis.set(f"{self.prefix}apq:{digest}", query, ex=self.ttl)
        except RedisError as exc:
            log.warning("could not store a persisted query: %s", exc)


def _error(message: str, code: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


class PersistedDocument(SchemaExtension):
    """Puts the persisted or trusted text in place before strawberry parses the request."""

    def __init__(self, documents: PersistedDocuments) -> None:
        self.documents = documents

    async def on_operation(self) -> AsyncIterator[None]:  # type: ignore[override]
        ec = self.execution_context
        principal = getattr(ec.context, "principal", None)
        request = getattr(ec.context, "request", None)
        scope = request.scope if request is not None else {}
        state = scope.setdefault("state", {}) if scope.get("type") == "http" else None
        if principal is not None:
            ec.query = await self.documents.resolve(ec.query, ec.operation_extensions, principal, state)
        yield
