"""Operation limits: depth, aliases and root fields, checked on the document before anything runs;
introspection measured by its own rule.

One validation rule measures each operation with fragments expanded, but every fragment is
measured once (memoised), so a fragment "bomb" (each fragment spreading the next twice) costs
linear time to measure, and a fragment cycle (invalid anyway) ends the walk instead of looping.
The rule runs in `Documents` ahead of the specified rules, so a rejected document never reaches
the expensive ones (OverlappingFieldsCanBeMerged is quadratic in the fields of a selection).
Token count and size are limits of the parser and the request body (see `gateway.protections.documents`).

Introspection (`__schema`, `__type`) is answered from the schema in memory and fetches nothing,
but the standard queries of the tools nest deeply: graphql-js's `getIntrospectionQuery` and
graphql-core's `get_introspection_query` 15 levels with every option (their default `typeDepth`
of 9 `ofType`s), gql's 13. So an introspection field counts as one level of the operation's
depth, and what is under it has limits of its own:
- its nesting, at most `max_introspection_depth` (20: room for a `typeDepth` of 14);
- nested lists of types (`fields`, `inputFields`, `interfaces`, `possibleTypes` inside one
  another three deep, the known `__type { fields { type { fields { type { fields ...` abuse),
  by graphql-core's own MaxIntrospectionDepthRule (graphql-js has the same rule), given our code.
Aliases and root fields count inside introspection as anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    MaxIntrospectionDepthRule,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
)

INTROSPECTION_FIELDS = ("__schema", "__type")


@dataclass(frozen=True, slots=True)
class Limits:
    max_depth: int = 12
    max_aliases: int = 50
    max_root_fields: int = 20
    max_introspection_depth: int = 20


@dataclass(slots=True)
class _Measure:
    depth: int = 0
    aliases: int = 0
    fields: int = 0  # fields of the top level, for root fields
    introspection: int = 0  # deepest nesting under an introspection field, that field included


class _Walk:
    def __init__(self, fragments: dict[str, FragmentDefinitionNode], cutoff: int) -> None:
        self.fragments = fragments
        self.cutoff = cutoff  # deeper than every limit: stop looking
        self.memo: dict[str, _Measure] = {}

    def selection_set(self, node: SelectionSetNode | None, depth: int) -> _Measure:
        found = _Measure()
        if node is None or depth > self.cutoff:
            return found
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                inner = self.selection_set(selection.selection_set, depth + 1)
                if selection.name.value in INTROSPECTION_FIELDS:
                    # One level of the operation; what is under it is introspection's own depth.
                    found.depth = max(found.depth, 1)
                    found.introspection = max(found.introspection, 1 + inner.depth)
                else:
                    found.depth = max(found.depth, 1 + inner.depth)
                    found.introspection = max(found.introspection, inner.introspection)
                found.aliases += inner.aliases + (selection.alias is not None)
                found.fields += 1
                continue
            if isinstance(selection, InlineFragmentNode):
                inner = self.selection_set(selection.selection_set, depth)
            else:
                assert isinstance(selection, FragmentSpreadNode)
                inner = self.fragment(selection.name.value)
            found.depth = max(found.depth, inner.depth)
            found.introspection = max(found.introspection, inner.introspection)
            found.aliases += inner.aliases
            found.fields += inner.fields
        return found

    def fragment(self, name: str) -> _Measure:
        # Measured from its own top, once, wherever it is spread.
        if name in self.memo:
            return self.memo[name]
        definition = self.fragments.get(name)
        self.memo[name] = _Measure()  # a cycle back here counts nothing (and fails validation)
        if definition is not None:
            self.memo[name] = self.selection_set(definition.selection_set, 0)
        return self.memo[name]


def limits_rule(limits: Limits) -> type[ASTValidationRule]:
    class OperationLimitsRule(ASTValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            document = context.document
            fragments = {
                d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
            }
            cutoff = max(limits.max_depth, limits.max_introspection_depth) + 1
            for operation in document.definitions:
                if isinstance(operation, OperationDefinitionNode):
                    self._check(operation, _Walk(fragments, cutoff))

        def _check(self, operation: OperationDefinitionNode, walk: _Walk) -> None:
            found = walk.selection_set(operation.selection_set, 0)
            name = f"Operation {operation.name.value}" if operation.name else "The operation"
            for measured, allowed, what in (
                (found.depth, limits.max_depth, "nests {n} levels deep; the limit is {m}"),
                (found.aliases, limits.max_aliases, "uses {n} aliases; the limit is {m}"),
                (found.fields, limits.max_root_fields, "selects {n} root fields; the limit is {m}"),
                (
                    found.introspection,
                    limits.max_introspection_depth,
                    "nests introspection {n} levels deep; the limit is {m}",
                ),
            ):
                if measured > allowed:
                    message = f"{name} {what.format(n=measured, m=allowed)}."
                    self.report_error(GraphQLError(message, operation, extensions={"code": "BAD_USER_INPUT"}))

    return OperationLimitsRule


class IntrospectionListsRule(MaxIntrospectionDepthRule):
    """graphql-core's rule against lists of types nested in one another, with our error code."""

    def report_error(self, error: GraphQLError) -> None:
        super().report_error(
            GraphQLError(
                "Introspection nests lists of types (fields, inputFields, interfaces, possibleTypes) "
                "too deeply; no schema tool needs more than two levels.",
                error.nodes,
                extensions={"code": "BAD_USER_INPUT"},
            )
        )
