"""The operation's `@inContext` becomes the request's price context, before anything resolves.

Both executors read it the same way, with `prepare`: strawberry's through `InContextPricing` (an
extension, so HTTP, websockets and SSE all get it), the compiled one through `PricedExecutor`
(whoever calls it: the endpoint, the differential test). The endpoint prepares it first, for the
response cache's key (`cache_key`): an answer in CAD, at a store or at a member tier is another
answer than the catalog's own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    get_directive_values,
    get_operation_ast,
)
from graphql.execution import ExecutionResult
from graphql.execution.values import VariableValues, get_variable_values
from strawberry.extensions import SchemaExtension

from gateway.compiled import CompiledExecutor, CompiledResult
from gateway.context import Context
from resolvers import prices
from resolvers.errors import GatewayError
from resolvers.principal import PrincipalKind
from schema.ids import decode_id

DIRECTIVE = "inContext"


def directive_of(operation: OperationDefinitionNode | None) -> Any:
    if operation is None:
        return None
    return next((d for d in operation.directives or () if d.name.value == DIRECTIVE), None)


async def prepare(
    schema: GraphQLSchema,
    context: Context,
    operation: OperationDefinitionNode | None,
    variables: dict[str, Any] | None,
) -> None:
    """Set `context.pricing` from the operation's @inContext (left None without one). Raises
    GatewayError (BAD_USER_INPUT) for a context that names nothing; variables that do not
    coerce are the executor's to refuse, and leave the context as it is."""
    if directive_of(operation) is None:
        return
    assert operation is not None
    if context.priced_operation is operation:
        return  # prepared already (the endpoint, for its cache key)
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables or {})
    if not isinstance(coerced, VariableValues):
        return
    definition = schema.get_directive(DIRECTIVE)
    assert definition is not None
    given = get_directive_values(definition, operation, coerced) or {}
    location = given.get("location")
    principal = context.principal
    channel = given.get("channel")
    currency = given.get("currency")
    context.pricing = await prices.resolve_context(
        context,
        channel=channel,
        country=given.get("country"),
        currency=getattr(currency, "value", currency),
        location_id=None if location is None else decode_id(location, "Location", "location"),
        member_id=principal.member_id if principal.kind is PrincipalKind.MEMBER else None,
    )
    context.priced_operation = operation


async def cache_key(context: Context) -> tuple[object, ...]:
    """The part of a response-cache key the price context adds: nothing without one."""
    return await prices.cache_key(context, context.pricing)


class InContextPricing(SchemaExtension):
    """The standard executor's side: the context is set before the operation executes."""

    async def on_execute(self) -> AsyncIterator[None]:
        ec = self.execution_context
        document: DocumentNode | None = ec.graphql_document
        if ec.result is None and document is not None:
            operation = get_operation_ast(document, ec.operation_name)
            try:
                await prepare(ec.schema._schema, ec.context, operation, ec.variables)
            except GatewayError as exc:
                if operation is not None and operation.operation.value == "subscription":
                    raise  # a subscription's start reports what its hook raised
                ec.result = ExecutionResult(None, [GraphQLError(exc.message, original_error=exc)])
        yield


class PricedExecutor(CompiledExecutor):
    """The compiled executor, with the operation's price context set before it runs (a context
    that names nothing leaves the answer to the standard executor, which says why)."""

    operation_directives = frozenset({"inContext"})

    def __init__(self, schema: Any, **options: Any) -> None:
        super().__init__(schema, **options)
        self._core_schema: GraphQLSchema = schema._schema

    async def execute(
        self,
        document: DocumentNode,
        operation_name: str | None,
        variables: dict[str, Any] | None,
        context: Any,
        standard_context: Callable[[], Awaitable[Any]] | None = None,
    ) -> CompiledResult | None:
        try:
            await prepare(self._core_schema, context, get_operation_ast(document, operation_name), variables)
        except GatewayError:
            self.fallbacks += 1
            return None
        return await super().execute(document, operation_name, variables, context, standard_context)
