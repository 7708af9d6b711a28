"""Content negotiation for GraphQL over HTTP: which media type an answer goes out as, whether a
request is plain JSON (the compiled path's kind), and which stream transport a subscription gets,
read from the request's Accept and Content-Type headers in the client's order of preference."""

from __future__ import annotations

from starlette.types import Scope

_JSON_ACCEPTS = (b"", b"*/*", b"application/json", b"application/*")
GRAPHQL_RESPONSE = b"application/graphql-response+json"


def header(scope: Scope, name: bytes) -> bytes:
    for key, value in scope["headers"]:
        if key == name:
            return value
    return b""


def response_media(scope: Scope) -> bytes:
    """application/graphql-response+json when the client lists it before application/json."""
    for part in header(scope, b"accept").lower().split(b","):
        media = part.split(b";")[0].strip()
        if media == GRAPHQL_RESPONSE:
            return GRAPHQL_RESPONSE + b"; charset=utf-8"
        if media in _JSON_ACCEPTS[1:]:
            break
    return b"application/json"


SSE, MULTIPART = "sse", "multipart-subscription"  # strawberry's names of its stream transports
_PLAIN = (b"*/*", b"application/*", b"application/json", GRAPHQL_RESPONSE, b"application/graphql+json")


def _quality(params: list[bytes]) -> float:
    for param in params:
        name, _, value = param.partition(b"=")
        if name.strip().lower() == b"q":
            try:
                return float(value.strip())
            except ValueError:
                return 0.0
    return 1.0


def stream_protocol(scope: Scope) -> str | None:
    """The stream transport the client prefers, or None for one JSON answer.

    Its Accept header is read in order of preference (q, then position): `text/event-stream` is
    graphql-sse, `multipart/mixed` with a `subscriptionSpec` is Apollo's multipart subscriptions,
    a JSON type means one JSON answer. urql lists `text/event-stream` after the JSON types for
    queries too, and Apollo Client asks for `multipart/mixed;deferSpec=...` (incremental
    delivery, not served) ahead of `application/json`: both get JSON."""
    ranked = []
    for position, part in enumerate(header(scope, b"accept").lower().split(b",")):
        media, *params = part.split(b";")
        ranked.append((-_quality(params), position, media.strip(), params))
    for negated_quality, _, media, params in sorted(ranked):
        if negated_quality >= 0:
            break  # q=0: not acceptable
        if media == b"text/event-stream":
            return SSE
        if media == b"multipart/mixed" and any(b"subscriptionspec" in p for p in params):
            return MULTIPART
        if media in _PLAIN:
            return None
    return None


def wants_json(scope: Scope) -> bool:
    content_type = header(scope, b"content-type").split(b";")[0].strip().lower()
    if content_type != b"application/json":
        return False
    accept = header(scope, b"accept").lower()
    accepted = (*_JSON_ACCEPTS, GRAPHQL_RESPONSE)
    return any(a.split(b";")[0].strip() in accepted for a in accept.split(b",")) or not accept
