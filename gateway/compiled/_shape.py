"""The shape of a compiled plan: what the planner builds and the code generator and the runner
read. A `SelectionPlan` per selection set (per runtime type of an abstract field), a `FieldPlan`
per field, and each field's kind, which says how its value is got: ATTR reads a record's attribute,
SYNC calls a plain resolver, BATCH resolves a whole level in one call, TYPENAME writes
`__typename`, ROOT runs a root field's resolver."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graphql import FieldNode, GraphQLField
    from strawberry.types.field import StrawberryField

    from gateway.compiled._declarations import PermissionGuard

ATTR, SYNC, BATCH, TYPENAME, ROOT = range(5)


@dataclass(slots=True)
class FieldPlan:
    key: str
    kind: int
    getter: Callable[[Any], Any] | None = None
    attr: str | None = None  # ATTR: the record attribute the value is
    batch: Callable[..., Any] | None = None
    strawberry_field: StrawberryField | None = None
    field_def: GraphQLField | None = None
    node: FieldNode | None = None
    static_args: dict[str, Any] | None = None  # python kwargs, when no variable is involved
    non_null: bool = False
    is_list: bool = False
    item_non_null: bool = False
    leaf: Callable[[Any], Any] | None = None  # serializer; None: the value is already JSON-ready
    is_leaf: bool = True
    # An abstract field that may resolve to a non-public type: its null says nothing of which
    # (a `node` refused to this caller), so an answer with such a null is never cached.
    private_null: bool = False
    sub: dict[str, SelectionPlan] = field(default_factory=dict)  # by runtime type name
    # The field's permission classes: checked for every parent before its value is read.
    guards: tuple[PermissionGuard, ...] = ()


@dataclass(slots=True)
class SelectionPlan:
    type_name: str
    fields: list[FieldPlan]
    # For the plan of one possible type of an abstract field: what an answer that takes this
    # branch depends on (None: not public). Known only at run time, when the type is.
    branch_topics: frozenset[str] | None = None
    is_branch: bool = False
    # Set by gateway.compiled._codegen: builds one output object with every field that is a
    # plain read filled in (None in the place of the others), and the others, in order.
    make: Callable[[Any], dict[str, Any]] = lambda _record: {}
    deferred: list[FieldPlan] = field(default_factory=list)
