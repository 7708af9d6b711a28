"""Introspection policy: `__schema` and `__type` (and a federated subgraph's `_service`, its SDL)
are answered only to callers allowed to read the schema (everyone in dev mode; partner keys with
the `schema:read` scope, such as a supergraph's router; integrations)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator

from graphql import DocumentNode, FieldNode, GraphQLError, visit
from graphql.execution import ExecutionResult as CoreResult
from graphql.language import Visitor
from strawberry.extensions import SchemaExtension

from resolvers.principal import Principal, PrincipalKind

SCOPE = "schema:read"


def may_introspect(principal: Principal) -> bool:
    return principal.kind is PrincipalKind.INTEGRATION or SCOPE in principal.scopes


class _Finder(Visitor):
    def __init__(self, names: frozenset[str]) -> None:
        super().__init__()
        self.names = names
        self.found = False

    def enter_field(self, node: FieldNode, *_: object) -> object:
        if node.name.value in self.names:
            self.found = True
            return Visitor.BREAK
        return None


class Selects:
    """Whether a document selects a field of these names anywhere, remembered per document text."""

    def __init__(self, names: tuple[str, ...], max_entries: int = 1000) -> None:
        self.names = frozenset(names)
        self._seen: OrderedDict[str, bool] = OrderedDict()
        self._max = max_entries

    def __call__(self, document: DocumentNode) -> bool:
        text = document.loc.source.body if document.loc else ""
        if text not in self._seen:
            finder = _Finder(self.names)
            visit(document, finder)
            self._seen[text] = finder.found
            if len(self._seen) > self._max:
                self._seen.popitem(last=False)
        return self._seen[text]


class Introspects(Selects):
    """Whether a document asks for the schema."""

    def __init__(self, max_entries: int = 1000) -> None:
        super().__init__(("__schema", "__type", "_service"), max_entries)


def forbidden() -> GraphQLError:
    return GraphQLError(
        "Introspection is not available to this caller; use a key with the schema:read scope.",
        extensions={"code": "FORBIDDEN"},
    )


class IntrospectionPolicy(SchemaExtension):
    def __init__(
        self, introspects: Introspects, allowed: Callable[[Principal], bool] = may_introspect
    ) -> None:
        self.introspects = introspects
        self.allowed = allowed

    def on_execute(self) -> Iterator[None]:
        ec = self.execution_context
        principal = getattr(ec.context, "principal", None)
        asks = ec.result is None and ec.graphql_document is not None and self.introspects(ec.graphql_document)
        if asks and (principal is None or not self.allowed(principal)):
            ec.result = CoreResult(None, [forbidden()])
        yield
