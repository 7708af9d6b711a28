"""Operation limits: depth, aliases and root fields, checked on the document before anything runs.

One validation rule measures each operation with fragments expanded, but every fragment is
measured once (memoised), so a fragment "bomb" (each fragment spreading the next twice) costs
linear time to measure, and a fragment cycle (invalid anyway) ends the walk instead of looping.
The rule runs in `Documents` ahead of the specified rules, so a rejected document never reaches
the expensive ones (OverlappingFieldsCanBeMerged is quadratic in the fields of a selection).
Token count and size are limits of the parser and the request body (see `gateway.documents`).
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
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
)


@dataclass(frozen=True, slots=True)
class Limits:
    max_depth: int = 12
    max_aliases: int = 50
    max_root_fields: int = 20


@dataclass(slots=True)
class _Measure:
    depth: int = 0
    aliases: int = 0
    fields: int = 0  # fields of the top level, for root fields


class _Walk:
    def __init__(self, fragments: dict[str, FragmentDefinitionNode], max_depth: int) -> None:
        self.fragments = fragments
        self.max_depth = max_depth
        self.memo: dict[str, _Measure] = {}

    def selection_set(self, node: SelectionSetNode | None, depth: int) -> _Measure:
        found = _Measure()
        if node is None or depth > self.max_depth + 1:  # deep enough to reject: stop looking
            return found
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                inner = self.selection_set(selection.selection_set, depth + 1)
                found.depth = max(found.depth, 1 + inner.depth)
                found.aliases += inner.aliases + (selection.alias is not None)
                found.fields += 1
                continue
            if isinstance(selection, InlineFragmentNode):
                inner = self.selection_set(selection.selection_set, depth)
            else:
                assert isinstance(selection, FragmentSpreadNode)
                inner = self.fragment(selection.name.value)
            found.depth = max(found.depth, inner.depth)
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
            for operation in document.definitions:
                if isinstance(operation, OperationDefinitionNode):
                    self._check(operation, _Walk(fragments, limits.max_depth))

        def _check(self, operation: OperationDefinitionNode, walk: _Walk) -> None:
            found = walk.selection_set(operation.selection_set, 0)
            name = f"Operation {operation.name.value}" if operation.name else "The operation"
            for measured, allowed, what in (
                (found.depth, limits.max_depth, "nests {n} levels deep; the limit is {m}"),
                (found.aliases, limits.max_aliases, "uses {n} aliases; the limit is {m}"),
                (found.fields, limits.max_root_fields, "selects {n} root fields; the limit is {m}"),
            ):
                if measured > allowed:
                    message = f"{name} {what.format(n=measured, m=allowed)}."
                    self.report_error(GraphQLError(message, operation, extensions={"code": "BAD_USER_INPUT"}))

    return OperationLimitsRule
