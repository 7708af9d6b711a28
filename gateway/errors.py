"""Every error leaves the gateway with a contract `extensions.code`, and none leaks internals.

- a use case's GatewayError keeps its message and gets its code (and the argument at fault);
- an error of the request itself, which has no path (a document that does not parse or
  validate, variables that do not coerce): BAD_USER_INPUT, unless it already carries a code;
- the gateway's own database could not be reached (down, restarting): UPSTREAM_UNAVAILABLE,
  logged as a warning, since nothing is wrong with the request;
- a system of record (the ERP, the CRM) is down, slow or behind an open circuit while a field
  reads it live (a member, an order's member): UPSTREAM_UNAVAILABLE, logged as a warning;
- anything else happened while resolving a field and is a bug: logged whole, answered as
  INTERNAL with the request id to quote.

The rewrite runs as a schema extension (so websockets get it too) and again on the HTTP result,
because strawberry reports an error raised while parsing outside the extension's reach.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from adapters.errors import UpstreamUnavailable as UpstreamDown
from adapters.store.engine import unreachable
from resolvers.errors import GatewayError

log = logging.getLogger("omnigate.errors")

CODES = frozenset(
    {
        "UNAUTHENTICATED",
        "FORBIDDEN",
        "BAD_USER_INPUT",
        "NOT_FOUND",
        "RATE_LIMITED",
        "UPSTREAM_UNAVAILABLE",
        "INTERNAL",
    }
)
# The one code outside the contract: APQ clients look for it to send the full document.
PROTOCOL_CODES = frozenset({"PERSISTED_QUERY_NOT_FOUND"})


def contract_error(error: GraphQLError, request_id: str | None) -> GraphQLError:
    original = error.original_error
    given = (error.extensions or {}).get("code")
    if isinstance(original, GatewayError):
        extensions: dict[str, Any] = {"code": original.code}
        if original.field:
            extensions["field"] = original.field
        extensions.update(original.details)
        message = original.message
    elif given in CODES or given in PROTOCOL_CODES:
        return error
    elif error.path is None:
        extensions = {"code": "BAD_USER_INPUT"}
        message = error.message
    elif isinstance(original, UpstreamDown):
        upstream = getattr(original, "upstream", "upstream")
        log.warning("upstream unavailable (request %s) at %s: %s", request_id, error.path, original)
        extensions = {"code": "UPSTREAM_UNAVAILABLE"}
        message = f"{upstream} did not answer; try again later"
    elif unreachable(original):
        log.warning("database unreachable (request %s) at %s: %s", request_id, error.path, original)
        extensions = {"code": "UPSTREAM_UNAVAILABLE"}
        message = "the gateway's database did not answer; try again (a checkout with the same idempotencyKey)"
    else:
        if original is not None:
            exc_info: Any = (type(original), original, original.__traceback__)
        else:
            exc_info = None
        log.error(
            "unexpected error (request %s) at %s: %s",
            request_id,
            error.path,
            error.message,
            exc_info=exc_info,
        )
        extensions = {"code": "INTERNAL", "requestId": request_id}
        message = f"Internal error; quote request id {request_id} to support."
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=extensions,
    )


class ContractErrors(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            request_id = getattr(self.execution_context.context, "request_id", None)
            result.errors = [contract_error(e, request_id) for e in result.errors]

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """Each result of a subscription (or any operation over a websocket), before it is sent."""
        if getattr(result, "errors", None):
            request_id = getattr(self.execution_context.context, "request_id", None)
            result.errors = [contract_error(e, request_id) for e in result.errors]
        yield
