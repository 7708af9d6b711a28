"""Parsed and validated documents, cached by their text: each distinct query is parsed and
validated once per process, not once per request."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, parse, specified_rules
from strawberry.schema.schema import validate_document


@dataclass(frozen=True, slots=True)
class Document:
    node: DocumentNode | None
    errors: list[GraphQLError]


class Documents:
    def __init__(
        self,
        schema: GraphQLSchema,
        rules: Sequence[type[ASTValidationRule]] = (),
        max_entries: int = 1000,
    ) -> None:
        self._schema = schema
        self._rules = (*specified_rules, *rules)
        self._entries: OrderedDict[str, Document] = OrderedDict()
        self._max = max_entries

    def get(self, text: str) -> Document:
        found = self._entries.get(text)
        if found is not None:
            self._entries.move_to_end(text)
            return found
        try:
            node = parse(text)
        except GraphQLError as error:
            document = Document(None, [error])
        else:
            document = Document(node, validate_document(self._schema, node, self._rules))
        self._entries[text] = document
        if len(self._entries) > self._max:
            self._entries.popitem(last=False)
        return document
