"""Parsed and validated documents, cached by their text: each distinct query is parsed and
validated once per process, not once per request, on both paths (the compiled endpoint reads
`Documents` directly; strawberry's view reads it through the `DocumentCache` extension).

A document is refused before parsing when it is too long, while parsing when it has too many
tokens or nests deeper than the parser can follow, and then by the gateway's limit rules
before the specified rules run, so that a hostile document costs little to refuse.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    parse,
    specified_rules,
    validate,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

# The rules strawberry adds to every validation (strawberry.schema.schema.validate_document).
_STRAWBERRY_RULES = (MaybeNullValidationRule, OneOfInputValidationRule)


@dataclass(frozen=True, slots=True)
class Document:
    node: DocumentNode | None
    errors: list[GraphQLError]


def _refused(message: str) -> Document:
    return Document(None, [GraphQLError(message, extensions={"code": "BAD_USER_INPUT"})])


class Documents:
    def __init__(
        self,
        schema: GraphQLSchema,
        rules: Sequence[type[ASTValidationRule]] = (),
        max_entries: int = 1000,
        limit_rules: Sequence[type[ASTValidationRule]] = (),
        max_tokens: int | None = None,
        max_length: int | None = None,
        hide_suggestions: bool = False,
    ) -> None:
        self._schema = schema
        # Production leaves "Did you mean ...?" out: it would spell out the schema that
        # introspection hides (fields, arguments, enum values, type names).
        self.hide_suggestions = hide_suggestions
        self._rules = (*specified_rules, *rules)
        self._limit_rules = tuple(limit_rules)
        self._entries: OrderedDict[str, Document] = OrderedDict()
        self._max = max_entries
        self.max_tokens = max_tokens
        self.max_length = max_length

    def get(self, text: str) -> Document:
        found = self._entries.get(text)
        if found is not None:
            self._entries.move_to_end(text)
            return found
        document = self._load(text)
        self._entries[text] = document
        if len(self._entries) > self._max:
            self._entries.popitem(last=False)
        return document

    def _load(self, text: str) -> Document:
        if self.max_length is not None and len(text) > self.max_length:
            return _refused(f"The document is {len(text)} characters long; the limit is {self.max_length}.")
        try:
            node = parse(text, max_tokens=self.max_tokens)
        except GraphQLError as error:
            return Document(None, [error])
        except RecursionError:
            return _refused("The document nests too deeply to parse.")
        if self._limit_rules:
            errors = self._validate(node, self._limit_rules)
            if errors:  # the specified rules need not run: the document is refused already
                return Document(node, errors)
        return Document(node, self._validate(node, self._rules))

    def _validate(self, node: DocumentNode, rules: Sequence[type[ASTValidationRule]]) -> list[GraphQLError]:
        rules = (*rules, *_STRAWBERRY_RULES)
        return validate(self._schema, node, rules, hide_suggestions=self.hide_suggestions)


class DocumentCache(SchemaExtension):
    """Strawberry's parse and validate steps, answered from the shared `Documents` cache."""

    def __init__(self, documents: Documents) -> None:
        self.documents = documents

    def on_parse(self) -> Iterator[None]:
        ec = self.execution_context
        if ec.graphql_document is None and ec.query:
            document = self.documents.get(ec.query)
            if document.node is None:
                raise document.errors[0]
            ec.graphql_document = document.node
        yield

    def on_validate(self) -> Iterator[None]:
        ec = self.execution_context
        if ec.query and ec.pre_execution_errors is None:
            ec.pre_execution_errors = self.documents.get(ec.query).errors
        yield
