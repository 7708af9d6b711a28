"""Text the gateway can keep: no string argument may contain NUL (U+0000).

GraphQL strings may, but PostgreSQL text cannot hold it (asyncpg refuses the statement), so a
NUL in a handle, a search, a name or an idempotency key would fail deep in a use case, and only
on PostgreSQL. It is refused up front instead, the same on every backend, as BAD_USER_INPUT:
in a document's string literals by a validation rule (judged once per document, with the rest
of its validation) and in the variables by an extension (every request, HTTP and websocket;
the compiled path hands such a request to the view, which refuses it).

Lone surrogates (`"\\ud800"`), which no database can store either, never get this far: request
bodies and websocket messages are decoded by orjson, which refuses them as invalid JSON text.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import ASTValidationRule, GraphQLError, StringValueNode
from graphql.execution import ExecutionResult
from strawberry.extensions import SchemaExtension

MESSAGE = "Text may not contain the NUL character (U+0000)"


def nul_at(value: Any, path: str = "") -> str | None:
    """Where in a JSON value a string holds a NUL (`$input.lines.0.note`), or None."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = nul_at(item, f"{path}.{key}" if path else f"${key}")
        if found is not None:
            return found
    return None


class NulInLiterals(ASTValidationRule):
    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        if "\x00" in node.value:
            self.report_error(GraphQLError(f"{MESSAGE}.", node, extensions={"code": "BAD_USER_INPUT"}))


def nul_in_variables(variables: dict[str, Any] | None) -> GraphQLError | None:
    where = nul_at(variables or {})
    if where is None:
        return None
    name = where.split(".")[0].lstrip("$")
    return GraphQLError(f"{MESSAGE}: `{where}`.", extensions={"code": "BAD_USER_INPUT", "field": name})


class NulInVariables(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        ec = self.execution_context
        if ec.result is None:
            error = nul_in_variables(ec.variables)
            if error is not None:
                ec.result = ExecutionResult(None, [error])
        yield
