"""Every error leaves the gateway with a contract `extensions.code`, and none leaks internals.

- a use case's GatewayError keeps its message and gets its code (and the argument at fault);
- a document that does not parse or validate, or variables that do not coerce: BAD_USER_INPUT;
- anything else is a bug: logged whole, answered as INTERNAL with the request id to quote.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from resolvers.errors import GatewayError

log = logging.getLogger("omnigate.errors")


def contract_error(error: GraphQLError, request_id: str | None) -> GraphQLError:
    original = error.original_error
    if isinstance(original, GatewayError):
        extensions: dict[str, Any] = {"code": original.code}
        if original.field:
            extensions["field"] = original.field
        message = original.message
    elif original is None:
        extensions = {"code": (error.extensions or {}).get("code", "BAD_USER_INPUT")}
        message = error.message
    else:
        log.error(
            "unexpected error (request %s) at %s",
            request_id,
            error.path,
            exc_info=(type(original), original, original.__traceback__),
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
