"""A compiled execution path for hot queries, in the spirit of graphql-jit.

`CompiledExecutor.execute` returns the response `data` of a query, or None when the standard
executor must answer instead (the document cannot be compiled, a permission did not grant a
field, variables do not coerce, or anything at all went wrong while running it: errors are
always the standard executor's).

With `verify` (GATEWAY_COMPILED_VERIFY; the test suite runs with it), every compiled answer is
also computed by the standard executor with a fresh context; when the two differ the standard
answer is served, the difference logged as an error and counted in `mismatches`.
"""

from __future__ import annotations

import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
import strawberry
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    VariableNode,
    get_argument_values,
    get_operation_ast,
    visit,
)
from graphql.execution.values import VariableValues, get_variable_values
from graphql.language import Visitor
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField

from adapters.errors import UpstreamUnavailable
from gateway.compiled._declarations import Denied, resolver_wrappers
from gateway.compiled._plan import NotCompilable, Planner
from gateway.compiled._run import BatchSpans, Fallback, Runner
from gateway.compiled._shape import FieldPlan, SelectionPlan
from resolvers.errors import GatewayError

log = logging.getLogger("omnigate.compiled")
_NO_VARIABLES = VariableValues(sources={}, coerced={})

__all__ = ["CompiledExecutor", "CompiledResult"]


class _DirectiveVariables(Visitor):
    """Names of the variables that @skip/@include read: they change the plan."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_directive(self, node: Any, *_: Any) -> None:
        if node.name.value in ("skip", "include"):
            for argument in node.arguments:
                if isinstance(argument.value, VariableNode):
                    self.names.add(argument.value.name.value)


@dataclass(frozen=True, slots=True)
class CompiledPlan:
    root: SelectionPlan
    cache_topics: frozenset[str] | None  # None: the answer is not public, never cache it


@dataclass(frozen=True, slots=True)
class CompiledResult:
    data: dict[str, Any]
    cache_topics: frozenset[str] | None


def _answer_topics(topics: frozenset[str] | None, branches: list[SelectionPlan]) -> frozenset[str] | None:
    """The operation's topics plus those of the abstract-field branches this answer took."""
    if topics is None or not branches:
        return topics
    found = set(topics)
    for branch in branches:
        if branch.branch_topics is None:
            return None
        found |= branch.branch_topics
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class Mismatch:
    """A compiled answer the standard executor did not give: the document and both answers."""

    query: str
    variables: dict[str, Any]
    compiled: Any
    standard: Any


class CompiledExecutor:
    # Operation directives a subclass applies before running a plan (gateway/pricing.py's
    # @inContext); an operation with any other directive is not compiled.
    operation_directives: frozenset[str] = frozenset()

    def __init__(
        self,
        schema: strawberry.Schema,
        max_plans: int = 1000,
        verify: bool = False,
        tracing: BatchSpans | None = None,
    ) -> None:
        self._schema = schema
        self._tracing = tracing  # a span per batch resolver call, when tracing is on
        self._gql = schema._schema
        self._scalars = schema.schema_converter.scalar_registry
        self._config = schema.config
        self._plans: OrderedDict[tuple[Any, ...], CompiledPlan | None] = OrderedDict()
        self._max_plans = max_plans
        self._directive_vars: dict[str, frozenset[str]] = {}
        self._record_types = self._runtime_types()
        self.compiled = 0
        self.fallbacks = 0
        self.verify = verify
        self.mismatch_count = 0
        self.mismatches: deque[Mismatch] = deque(maxlen=20)  # the latest, for a look
        self._wrapped_by: tuple[Any, list[str]] = ((), [])  # schema extensions that wrap resolvers

    def _resolver_wrappers(self) -> list[str]:
        """Schema extensions that wrap every resolver call (read again when the list changes):
        the compiled path cannot apply them, so while there are any it compiles nothing."""
        extensions = self._schema.extensions
        if self._wrapped_by[0] is not extensions:
            found = resolver_wrappers(self._schema.get_extensions())
            if found:
                log.warning("compiled path off: schema extensions wrap resolvers: %s", ", ".join(found))
            self._wrapped_by = (extensions, found)
        return self._wrapped_by[1]

    def _runtime_types(self) -> dict[type, str]:
        names: dict[type, str] = {}
        for gtype in self._gql.type_map.values():
            definition = (getattr(gtype, "extensions", None) or {}).get("strawberry-definition")
            origin = getattr(definition, "origin", None)
            if origin is None:
                continue
            names[origin] = gtype.name
            record = getattr(origin, "record", None)
            if isinstance(record, type):
                names[record] = gtype.name
        return names

    def _type_of(self, obj: Any) -> str | None:
        return self._record_types.get(type(obj))

    def _convert(self, field: StrawberryField, coerced: dict[str, Any]) -> dict[str, Any]:
        return convert_arguments(coerced, field.arguments, scalar_registry=self._scalars, config=self._config)

    def plan(
        self, document: DocumentNode, operation: OperationDefinitionNode, variables: dict[str, Any]
    ) -> CompiledPlan | None:
        # Keyed by the document's text: a cached document keeps one text object, hashed once.
        text = document.loc.source.body if document.loc else None
        if text is None or self._resolver_wrappers():
            return None
        names = self._directive_vars.get(text)
        if names is None:
            finder = _DirectiveVariables()
            visit(document, finder)
            names = frozenset(finder.names)
            if len(self._directive_vars) < self._max_plans:
                self._directive_vars[text] = names
        switches = tuple(sorted((n, bool(variables.get(n))) for n in names))
        key = (text, operation.name.value if operation.name else None, switches)
        if key in self._plans:
            self._plans.move_to_end(key)
            return self._plans[key]
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        planner = Planner(
            self._gql,
            fragments,
            dict(switches),
            self._convert,
            lambda field_def, node: get_argument_values(field_def, node, _NO_VARIABLES),
            self.operation_directives,
        )
        try:
            root = planner.operation(operation)
            topics = planner.cache_topics
            plan: CompiledPlan | None = CompiledPlan(root, None if topics is None else frozenset(topics))
        except NotCompilable as why:
            log.debug("not compiled: %s", why)
            plan = None
        self._plans[key] = plan
        if len(self._plans) > self._max_plans:
            self._plans.popitem(last=False)
        return plan

    async def execute(
        self,
        document: DocumentNode,
        operation_name: str | None,
        variables: dict[str, Any] | None,
        context: Any,
        standard_context: Callable[[], Awaitable[Any]] | None = None,
    ) -> CompiledResult | None:
        """The compiled answer, or None. With `verify`, `standard_context` makes the context of
        the standard executor's run that checks it."""
        try:
            data = await self._execute(document, operation_name, variables or {}, context)
        except Exception:  # never a 500 from here: the standard executor answers instead
            log.warning("compiled execution failed; falling back", exc_info=True)
            data = None
        if data is not None and self.verify and standard_context is not None:
            data = await self._verified(document, operation_name, variables or {}, data, standard_context)
        if data is None:
            self.fallbacks += 1
        else:
            self.compiled += 1
        return data

    async def _verified(
        self,
        document: DocumentNode,
        operation_name: str | None,
        variables: dict[str, Any],
        result: CompiledResult,
        standard_context: Callable[[], Awaitable[Any]],
    ) -> CompiledResult | None:
        assert document.loc is not None
        query = document.loc.source.body
        standard = await self._schema.execute(
            query,
            variable_values=variables,
            context_value=await standard_context(),
            operation_name=operation_name,
        )
        if not standard.errors and orjson.dumps(standard.data) == orjson.dumps(result.data):
            return result
        errors = [(e.message, (e.extensions or {}).get("code")) for e in standard.errors or ()]
        self.mismatches.append(
            Mismatch(query, variables, result.data, {"data": standard.data, "errors": errors})
        )
        log.error(
            "the compiled path and the standard executor disagree; serving the standard answer",
            extra={"operation": operation_name, "query": query[:500]},
        )
        return None

    async def _execute(
        self, document: DocumentNode, operation_name: str | None, variables: dict[str, Any], context: Any
    ) -> CompiledResult | None:
        operation = get_operation_ast(document, operation_name)
        if operation is None or operation.operation.value != "query":
            return None
        coerced = get_variable_values(self._gql, operation.variable_definitions or (), variables)
        if not isinstance(coerced, VariableValues):
            return None
        plan = self.plan(document, operation, coerced.coerced)
        if plan is None:
            return None

        def field_args(f: FieldPlan) -> dict[str, Any]:
            assert f.strawberry_field is not None and f.field_def is not None and f.node is not None
            return self._convert(f.strawberry_field, get_argument_values(f.field_def, f.node, coerced))

        try:
            runner = Runner(context, self._type_of, field_args, self._tracing)
            data = await runner.run(plan.root)
            return CompiledResult(data, _answer_topics(plan.cache_topics, runner.branches))
        except (Fallback, Denied):
            return None
        except GraphQLError:
            return None
        except GatewayError:  # a resolver refused the input: the standard executor says why
            return None
        except UpstreamUnavailable:  # a system of record is down: the standard executor answers
            return None  # what it can, and UPSTREAM_UNAVAILABLE at the field that needed it
