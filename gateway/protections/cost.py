"""Operation cost: an estimate of the records an operation makes the gateway fetch, before it runs.

- A field that returns an object costs its type's weight (1, or 0 for value objects computed in
  process, such as Money, and for introspection's `__Type` and the like, which read the schema in
  memory and have limits of their own); a scalar costs 0; weights are configurable per type or
  `Type.field`.
- A list multiplies what is under it by its size: the field's `first`/`last` argument (capped at
  the largest page), `ids` (and a subgraph's `representations`) by their count, a connection's
  `edges`/`nodes` by the connection's `first`/`last` or default page size, any other list by an
  assumed size.
- Variables are read at request time; the document is planned once (cached by its text), and
  every fragment is planned and evaluated once per size it is spread under, so no document
  makes the estimate itself expensive. Abstract selections count every type condition.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    VariableNode,
    get_named_type,
    is_composite_type,
    value_from_ast_untyped,
)
from graphql.execution import ExecutionResult as CoreResult
from strawberry.extensions import SchemaExtension

CEILING = 10**12  # beyond any limit; keeps reported costs inside JSON's safe integers
# Fields nested deeper than this (fragments expanded) are not walked: far past the depth limits
# (GATEWAY_MAX_DEPTH, GATEWAY_MAX_INTROSPECTION_DEPTH), such a document costs the ceiling, and
# pricing it never needs more of the stack than its caller left (a 60-fragment fan-out did).
PRICED_DEPTH = 64
# (variables, size inherited from an enclosing connection, memo) -> cost
Term = Callable[[Mapping[str, Any], int | None, dict[Any, int]], int]
_SIZED_CHILDREN = ("edges", "nodes")
FREE_TYPES = ("Money", "PriceRange", "SelectedOption", "Image", "Address", "GeoPoint", "OpeningHours",
              "PageInfo", "UserError")  # fmt: skip


def _priced_out(_v: Mapping[str, Any], _s: int | None, _m: dict[Any, int]) -> int:
    return CEILING


def _zero(_v: Mapping[str, Any], _s: int | None, _m: dict[Any, int]) -> int:
    return 0


class CostModel:
    def __init__(
        self,
        schema: GraphQLSchema,
        weights: Mapping[str, int] | None = None,
        list_size: int = 10,
        default_page_size: int = 50,
        max_page_size: int = 250,
        max_plans: int = 1000,
    ) -> None:
        self.schema = schema
        self.weights = {**dict.fromkeys(FREE_TYPES, 0), "Mutation.*": 10, **(weights or {})}
        self.list_size = list_size
        self.default_page_size = default_page_size
        self.max_page_size = max_page_size
        self._plans: OrderedDict[str, dict[str | None, tuple[Term, dict[str, Any]]]] = OrderedDict()
        self._max_plans = max_plans

    def weight(self, parent: str, field: str, returns: Any) -> int:
        for key in (f"{parent}.{field}", f"{parent}.*"):
            if key in self.weights:
                return self.weights[key]
        if not is_composite_type(returns) or returns.name.startswith("__"):
            return 0  # introspection is read from the schema in memory (limited in limits.py)
        return self.weights.get(returns.name, 0 if returns.name.endswith("Edge") else 1)

    def plan(self, document: DocumentNode) -> dict[str | None, tuple[Term, dict[str, Any]]]:
        """Per operation name: its cost term and its variables' defaults."""
        text = document.loc.source.body if document.loc else None
        if text is not None and text in self._plans:
            self._plans.move_to_end(text)
            return self._plans[text]
        planner = _Planner(self, document)
        plans = {}
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                root = self.schema.get_root_type(definition.operation)
                defaults = {
                    d.variable.name.value: value_from_ast_untyped(d.default_value)
                    for d in definition.variable_definitions or ()
                    if d.default_value is not None
                }
                term = planner.selection_set(definition.selection_set, root) if root else _zero
                plans[definition.name.value if definition.name else None] = (term, defaults)
        if text is not None:
            self._plans[text] = plans
            if len(self._plans) > self._max_plans:
                self._plans.popitem(last=False)
        return plans

    def cost(
        self, document: DocumentNode, operation_name: str | None, variables: Mapping[str, Any] | None
    ) -> int:
        plans = self.plan(document)
        if operation_name is None and len(plans) == 1:
            term, defaults = next(iter(plans.values()))
        elif operation_name in plans:
            term, defaults = plans[operation_name]
        else:
            return 0  # no single operation to run: execution says so
        return min(term({**defaults, **(variables or {})}, None, {}), CEILING)

    def size(self, value: Any, count: bool = False) -> int:
        if count:
            return len(value) if isinstance(value, list) else 1
        if isinstance(value, int) and not isinstance(value, bool):
            return max(0, min(value, self.max_page_size))
        return self.default_page_size


class _Unknown(dict[str, Any]):
    """Variables at validation time: only defaults are known; an unknown size counts 0."""

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key, 0)


class _Planner:
    def __init__(self, model: CostModel, document: DocumentNode) -> None:
        self.model = model
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.terms: dict[str, Term] = {}
        self.depth = 0  # fields planned inside one another, fragments expanded

    def selection_set(self, node: SelectionSetNode | None, parent: Any) -> Term:
        if node is None or not hasattr(parent, "fields"):
            return _zero
        terms = [t for t in (self.selection(s, parent) for s in node.selections) if t is not _zero]
        return lambda v, s, m: sum(t(v, s, m) for t in terms)

    def selection(self, node: Any, parent: Any) -> Term:
        if isinstance(node, FieldNode):
            return self.field(node, parent)
        if isinstance(node, InlineFragmentNode):
            condition = node.type_condition
            inner = self.model.schema.get_type(condition.name.value) if condition else parent
            return self.selection_set(node.selection_set, inner)
        assert isinstance(node, FragmentSpreadNode)
        return self.spread(node.name.value)

    def spread(self, name: str) -> Term:
        if name not in self.terms:
            self.terms[name] = _zero  # a cycle counts nothing here (validation rejects it)
            definition = self.fragments.get(name)
            if definition is not None:
                inner = self.model.schema.get_type(definition.type_condition.name.value)
                self.terms[name] = self.selection_set(definition.selection_set, inner)
        term = self.terms[name]

        def spread(v: Mapping[str, Any], s: int | None, m: dict[Any, int]) -> int:
            key = (name, s)
            if key not in m:
                m[key] = term(v, s, m)
            return m[key]

        return spread

    def field(self, node: FieldNode, parent: Any) -> Term:
        if self.depth >= PRICED_DEPTH:  # past any depth a limit admits: priced out, not walked on
            return _priced_out
        self.depth += 1
        try:
            return self._field(node, parent)
        finally:
            self.depth -= 1

    def _field(self, node: FieldNode, parent: Any) -> Term:
        definition = parent.fields.get(node.name.value)
        if definition is None:
            return _zero
        returns, is_list = definition.type, False
        while isinstance(returns, GraphQLNonNull | GraphQLList):
            is_list = is_list or isinstance(returns, GraphQLList)
            returns = returns.of_type
        own = self.model.weight(parent.name, node.name.value, returns)
        sub = self.selection_set(node.selection_set, get_named_type(returns))
        sizing = self.sizing(node, definition)
        model, name = self.model, node.name.value

        def field(v: Mapping[str, Any], inherited: int | None, m: dict[Any, int]) -> int:
            size = sizing(v) if sizing else None
            if is_list:
                if size is None:
                    size = inherited if inherited is not None and name in _SIZED_CHILDREN else model.list_size
                return size * (own + sub(v, None, m))
            return own + sub(v, size, m)

        return field

    def sizing(self, node: FieldNode, definition: Any) -> Callable[[Mapping[str, Any]], int] | None:
        names = [n for n in ("first", "last", "ids", "representations") if n in definition.args]
        if not names:
            return None
        given = {a.name.value: a.value for a in node.arguments or () if a.name.value in names}
        model = self.model

        def value(v: Mapping[str, Any], arg: str) -> Any:
            ast = given.get(arg)
            if ast is None:
                return definition.args[arg].default
            if isinstance(ast, VariableNode):
                return v.get(ast.name.value)
            if isinstance(ast, IntValueNode):
                return int(ast.value)
            if isinstance(ast, ListValueNode):
                return [None] * len(ast.values)
            return None

        def size(v: Mapping[str, Any]) -> int:
            for counted in ("ids", "representations"):  # `_entities(representations:)` of a subgraph
                if counted in names:
                    return model.size(value(v, counted), count=True)
            found = [value(v, n) for n in names]
            numbers = [model.size(x) for x in found if x is not None]
            return max(numbers) if numbers else model.default_page_size

        return size


def cost_rule(model: CostModel, max_cost: int) -> type[ASTValidationRule]:
    """Rejects, once per document, what costs too much whatever its variables say."""

    class MaxCostRule(ASTValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            for name, (term, defaults) in model.plan(context.document).items():
                cost = min(term(_Unknown(defaults), None, {}), CEILING)
                if cost > max_cost:
                    self.report_error(too_costly(cost, max_cost, name))

    return MaxCostRule


def too_costly(cost: int, max_cost: int, name: str | None = None) -> GraphQLError:
    subject = f"Operation {name}" if name else "The operation"
    return GraphQLError(
        f"{subject} would cost {cost}; the limit is {max_cost}. Ask for smaller pages or fewer fields.",
        extensions={"code": "BAD_USER_INPUT", "cost": {"requested": cost, "maximum": max_cost}},
    )


class QueryCost(SchemaExtension):
    """Checks an operation's cost with its variables and reports it in `extensions.cost`."""

    def __init__(self, model: CostModel, max_cost: int) -> None:
        self.model = model
        self.max_cost = max_cost
        self.requested: int | None = None

    def on_execute(self) -> Iterator[None]:
        ec = self.execution_context
        if ec.result is None and ec.graphql_document is not None:
            self.requested = self.model.cost(ec.graphql_document, ec.operation_name, ec.variables)
            if self.requested > self.max_cost:
                ec.result = CoreResult(None, [too_costly(self.requested, self.max_cost, ec.operation_name)])
        yield

    def get_results(self) -> dict[str, Any]:
        if self.requested is None:
            return {}
        return {"cost": report(self.requested, self.max_cost)}


def report(requested: int, max_cost: int) -> dict[str, int]:
    return {"requested": requested, "maximum": max_cost}
