"""Planning: a validated query document becomes a tree of field plans, once per document.

A field plan says how to get the field's values for a whole list of parent records at once:
- ATTR: read an attribute of the record (no resolver dispatch at all);
- SYNC: call a plain function of the record (global ids, enum conversions);
- BATCH: await the field's batch resolver once for every parent (declared on the schema field
  with `schema.batch.batch(...)`), which goes through the request's DataLoaders;
- TYPENAME: the runtime type's name;
- ROOT: a root field's own resolver, called once (with an Info that carries only `context`).
Whatever a field declares besides its resolver (permission classes, extensions, directives) is
read from the same declaration strawberry's executor runs (gateway.compiled._declarations): it
becomes the plan's guards, or the field is NotCompilable. Anything else (introspection, @defer,
unknown resolvers, nested lists) is NotCompilable too, and the standard executor serves that
document.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from graphql import (
    BooleanValueNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    is_abstract_type,
)
from strawberry.types.field import StrawberryField

from gateway.compiled._codegen import compile_selection
from gateway.compiled._declarations import CompiledInfo, NotCompilable, PermissionGuard, field_guards
from gateway.compiled._kinds import ATTR, BATCH, ROOT, SYNC, TYPENAME

__all__ = [
    "FieldPlan",
    "NotCompilable",
    "Planner",
    "SelectionPlan",
]


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


class _Topics:
    """What the answer read so far depends on; `topics` None once a type is not public."""

    __slots__ = ("topics",)

    def __init__(self) -> None:
        self.topics: set[str] | None = set()


def _identity_safe(gtype: GraphQLScalarType) -> bool:
    # Records carry these as the exact Python types JSON needs: no per-value conversion.
    return gtype.name in ("String", "ID", "Int", "Boolean")


def _float(value: Any) -> Any:
    return value if type(value) is float else float(value)


def _leaf_serializer(gtype: Any) -> Callable[[Any], Any] | None:
    if isinstance(gtype, GraphQLScalarType):
        if _identity_safe(gtype):
            return None
        if gtype.name == "Float":
            return _float
        return gtype.serialize
    if isinstance(gtype, GraphQLEnumType):
        return _enum_serializer(gtype)
    return None


def _enum_serializer(gtype: GraphQLEnumType) -> Callable[[Any], Any]:
    """The name of each member of the Python enum behind a strawberry enum, looked up rather
    than searched for; anything else goes to the type's own serializer."""
    serialize = gtype.serialize
    wrapped = getattr(gtype, "wrapped_cls", None)
    if wrapped is None:
        return serialize
    names = {}
    for member in wrapped:
        found = [name for name, value in gtype.values.items() if value.value == member.value]
        if len(found) == 1:
            names[member] = found[0]

    def enum_name(value: Any) -> Any:
        name = names.get(value) if type(value) is wrapped else None
        return serialize(value) if name is None else name

    return enum_name


def _condition_holds(node: Any, variables: dict[str, Any]) -> bool:
    for directive in node.directives or ():
        name = directive.name.value
        if name not in ("skip", "include"):
            raise NotCompilable(f"directive @{name}")
        [argument] = directive.arguments
        value = argument.value
        if isinstance(value, BooleanValueNode):
            flag = value.value
        elif isinstance(value, VariableNode):
            flag = bool(variables.get(value.name.value))
        else:
            raise NotCompilable("directive argument")
        if flag == (name == "skip"):
            return False
    return True


class Planner:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        convert_args: Callable[[StrawberryField, dict[str, Any]], dict[str, Any]],
        coerce_args: Callable[[GraphQLField, FieldNode], dict[str, Any]],
        operation_directives: frozenset[str] = frozenset(),
    ) -> None:
        self.schema = schema
        self.operation_directives = operation_directives  # applied by the executor before it runs
        self.fragments = fragments
        self.variables = variables  # only those that @skip/@include read
        self.convert_args = convert_args
        self.coerce_args = coerce_args
        # What the answer depends on, for the response cache: the operation's, then one scope
        # per branch of an abstract field (a `node` that could be a cart is public when it is
        # a product).
        self._scopes = [_Topics()]

    @property
    def cache_topics(self) -> set[str] | None:
        return self._scopes[0].topics

    def operation(self, operation: OperationDefinitionNode) -> SelectionPlan:
        if operation.operation.value != "query":
            raise NotCompilable("only queries are compiled")
        for directive in operation.directives or ():
            if directive.name.value not in self.operation_directives:
                raise NotCompilable(f"operation directive @{directive.name.value}")
        root = self.schema.query_type
        assert root is not None
        return self.selection(root, [operation.selection_set])

    def _collect(
        self, runtime: GraphQLObjectType, sets: list[SelectionSetNode]
    ) -> dict[str, list[FieldNode]]:
        grouped: dict[str, list[FieldNode]] = {}
        seen_fragments: set[str] = set()

        def visit(selection_set: SelectionSetNode) -> None:
            for selection in selection_set.selections:
                if not _condition_holds(selection, self.variables):
                    continue
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    grouped.setdefault(key, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    if self._applies(selection.type_condition, runtime):
                        visit(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    if name in seen_fragments:
                        continue
                    seen_fragments.add(name)
                    fragment = self.fragments[name]
                    if self._applies(fragment.type_condition, runtime):
                        visit(fragment.selection_set)

        for selection_set in sets:
            visit(selection_set)
        return grouped

    def _applies(self, condition: Any, runtime: GraphQLObjectType) -> bool:
        if condition is None:
            return True
        target = self.schema.get_type(condition.name.value)
        if target is runtime:
            return True
        return is_abstract_type(target) and self.schema.is_sub_type(target, runtime)  # type: ignore[arg-type]

    def _note_type(self, runtime: GraphQLObjectType) -> None:
        scope = self._scopes[-1]
        if runtime is self.schema.query_type or scope.topics is None:
            return
        origin = getattr(runtime.extensions.get("strawberry-definition"), "origin", None)
        topics = getattr(origin, "cache_topics", None)
        if topics is None:
            scope.topics = None
        else:
            scope.topics.update(topics)

    def _note_field(self, strawberry_field: StrawberryField, node: FieldNode) -> None:
        scope = self._scopes[-1]
        if scope.topics is None:
            return
        metadata = strawberry_field.metadata or {}
        scope.topics.update(metadata.get("omnigate.depends", ()))
        given = {a.name.value for a in node.arguments or ()}
        for argument, topic in metadata.get("omnigate.depends_on_args", {}).items():
            if argument in given:
                scope.topics.add(topic)

    def selection(self, runtime: GraphQLObjectType, sets: list[SelectionSetNode]) -> SelectionPlan:
        self._note_type(runtime)
        plans = [self._field(runtime, key, nodes) for key, nodes in self._collect(runtime, sets).items()]
        plan = SelectionPlan(runtime.name, plans)
        compile_selection(plan)
        return plan

    def _field(self, parent: GraphQLObjectType, key: str, nodes: list[FieldNode]) -> FieldPlan:
        name = nodes[0].name.value
        if name == "__typename":
            return FieldPlan(key, TYPENAME)
        if name.startswith("__"):
            raise NotCompilable("introspection")
        field_def = parent.fields[name]
        strawberry_field: StrawberryField = field_def.extensions["strawberry-definition"]
        plan = FieldPlan(key, ATTR, field_def=field_def, node=nodes[0])
        self._note_field(strawberry_field, nodes[0])
        plan.guards = field_guards(strawberry_field, name)
        if plan.guards:
            # Who may see it depends on the caller, not only on the data: never a public answer.
            self._scopes[-1].topics = None
        batch = (strawberry_field.metadata or {}).get("omnigate.batch")
        resolver = strawberry_field.base_resolver
        if batch is not None or plan.guards or (resolver is not None and parent is self.schema.query_type):
            plan.strawberry_field = strawberry_field  # its arguments are converted as strawberry does
            if not _uses_variables(nodes[0]):
                plan.static_args = self.convert_args(strawberry_field, self.coerce_args(field_def, nodes[0]))
        if batch is not None:
            plan.kind, plan.batch = BATCH, batch
        elif resolver is None:
            plan.getter = attrgetter(strawberry_field.python_name)
            plan.attr = strawberry_field.python_name
        elif not resolver.is_async and not resolver.arguments and resolver.info_parameter is None:
            plan.kind, plan.getter = SYNC, resolver._unbound_wrapped_func
        elif parent is self.schema.query_type:
            if not resolver.is_async or resolver.wrapped_func.__module__.startswith("strawberry."):
                # Ours are coroutines that read only `info.context`; strawberry's own (a
                # federation subgraph's `_entities`, `_service`) read the whole `info`.
                raise NotCompilable(f"Query.{name}: not a resolver of this schema's")
            plan.kind, plan.batch = ROOT, _root_call(resolver, name)
        else:
            raise NotCompilable(f"{parent.name}.{name} has no batch resolver")
        self._shape(plan, field_def.type, nodes)
        return plan

    def _shape(self, plan: FieldPlan, gtype: Any, nodes: list[FieldNode]) -> None:
        if isinstance(gtype, GraphQLNonNull):
            plan.non_null, gtype = True, gtype.of_type
        if isinstance(gtype, GraphQLList):
            plan.is_list, gtype = True, gtype.of_type
            if isinstance(gtype, GraphQLNonNull):
                plan.item_non_null, gtype = True, gtype.of_type
            if isinstance(gtype, GraphQLList):
                raise NotCompilable("nested lists")
        if isinstance(gtype, (GraphQLScalarType, GraphQLEnumType)):
            plan.leaf = _leaf_serializer(gtype)
            return
        plan.is_leaf = False
        sets = [n.selection_set for n in nodes if n.selection_set]
        if not is_abstract_type(gtype):
            plan.sub = {gtype.name: self.selection(gtype, sets)}
            return
        for runtime in self.schema.get_possible_types(gtype):
            self._scopes.append(_Topics())
            branch = self.selection(runtime, sets)
            topics = self._scopes.pop().topics
            branch.is_branch = True
            branch.branch_topics = None if topics is None else frozenset(topics)
            plan.sub[runtime.name] = branch
            plan.private_null = plan.private_null or topics is None


def _root_call(resolver: Any, name: str) -> Callable[..., Any]:
    """A root resolver called as the compiled path calls it: its guards have run; the `info` it
    gets carries `context` (what ours read) and nothing it could misuse."""
    fn = resolver._unbound_wrapped_func
    takes_root = resolver.self_parameter is not None or resolver.root_parameter is not None
    info_name = resolver.info_parameter.name if resolver.info_parameter is not None else None

    async def call(context: Any, parents: list[Any], **kwargs: Any) -> list[Any]:
        if info_name is not None:
            kwargs[info_name] = CompiledInfo(context, name, resolver.name)
        return [await (fn(None, **kwargs) if takes_root else fn(**kwargs))]

    return call


def _uses_variables(node: FieldNode) -> bool:
    found = False

    def walk(value: Any) -> None:
        nonlocal found
        if isinstance(value, VariableNode):
            found = True
        for child in getattr(value, "values", None) or getattr(value, "fields", None) or ():
            walk(getattr(child, "value", child))

    for argument in node.arguments or ():
        walk(argument.value)
    return found
