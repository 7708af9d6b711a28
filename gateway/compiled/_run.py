"""Running a plan: the response is built breadth-first, one batch call per field per level.

Values are produced for all parents of a level at once, so a listing of 50 products with 150
variants and 1,500 stock rows costs one await per field, not one per value. Any error or null
where the schema says non-null raises Fallback: the standard executor then answers the request,
so errors are always exactly the standard executor's.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol

from gateway.compiled._codegen import Fallback, has_none
from gateway.compiled._kinds import ATTR, BATCH, ROOT, SYNC
from gateway.compiled._plan import FieldPlan, SelectionPlan
from resolvers.batching import WHOLE_LEVELS

__all__ = ["BatchSpans", "Fallback", "Runner"]


class BatchSpans(Protocol):
    """Tracing (gateway/running/tracing.py): a span around each batch resolver call."""

    def batch(self, type_name: str, field_name: str, parents: int) -> AbstractContextManager[Any]: ...


def _empty(_record: Any) -> dict[str, Any]:
    return {}


_PRIVATE = SelectionPlan("", [], branch_topics=None, is_branch=True)


class Runner:
    def __init__(
        self,
        context: Any,
        type_of: Callable[[Any], str | None],
        field_args: Callable[[FieldPlan], dict[str, Any]],
        tracing: BatchSpans | None = None,
    ) -> None:
        self.context = context
        self.tracing = tracing
        self.type_of = type_of  # runtime GraphQL type name of a record (abstract fields)
        self.field_args = field_args
        self.branches: list[SelectionPlan] = []  # branches of abstract fields the answer took

    async def run(self, plan: SelectionPlan) -> dict[str, Any]:
        data = plan.make(None)
        # Each batch call asks for a whole level: the loaders need not wait for more keys.
        whole_levels = WHOLE_LEVELS.set(True)
        try:
            await self.fill(plan, [None], [data])
        finally:
            WHOLE_LEVELS.reset(whole_levels)
        return data

    async def fill(self, plan: SelectionPlan, parents: list[Any], out: list[dict[str, Any]]) -> None:
        """The fields `plan.make` left out, for objects it built."""
        for f in plan.deferred:
            key = f.key
            kind = f.kind
            args = None
            if f.guards:  # the field's permission classes, for every parent, before its value
                args = f.static_args if f.static_args is not None else self.field_args(f)
                for guard in f.guards:
                    await guard.check(self.context, parents, dict(args))
            if kind in (ATTR, SYNC):
                getter = f.getter
                assert getter is not None
                values = [getter(p) for p in parents]
            elif kind in (BATCH, ROOT):
                assert f.batch is not None
                if args is None:
                    args = f.static_args if f.static_args is not None else self.field_args(f)
                if self.tracing is None:
                    values = await f.batch(self.context, parents, **dict(args))
                else:
                    name = f.node.name.value if f.node is not None else f.key
                    with self.tracing.batch(plan.type_name, name, len(parents)):
                        values = await f.batch(self.context, parents, **dict(args))
            else:  # TYPENAME
                for d in out:
                    d[key] = plan.type_name
                continue
            if f.is_leaf:
                self._leaves(f, values, out)
            else:
                await self._objects(f, values, out)

    @staticmethod
    def _leaves(f: FieldPlan, values: list[Any], out: list[dict[str, Any]]) -> None:
        key, leaf = f.key, f.leaf
        if f.is_list:
            for d, v in zip(out, values, strict=True):
                if v is None:
                    if f.non_null:
                        raise Fallback(key)
                    d[key] = None
                    continue
                if f.item_non_null and None in v:
                    raise Fallback(key)
                d[key] = [x if leaf is None or x is None else leaf(x) for x in v]
            return
        if f.non_null and None in values:
            raise Fallback(key)
        if leaf is None:
            for d, v in zip(out, values, strict=True):
                d[key] = v
        else:
            for d, v in zip(out, values, strict=True):
                d[key] = None if v is None else leaf(v)

    async def _objects(self, f: FieldPlan, values: list[Any], out: list[dict[str, Any]]) -> None:
        key = f.key
        children: list[Any] = []
        child_out: list[dict[str, Any]] = []
        # The same record under many parents (a store under each of its stock levels) is
        # answered once: its output object is shared, and serializes to identical JSON.
        answered: dict[int, dict[str, Any]] = {}
        single = None if len(f.sub) != 1 else next(iter(f.sub.values()))
        # Objects of one possible type are built as they are met; of several, once the type is known.
        make = _empty if single is None else single.make
        for d, v in zip(out, values, strict=True):
            if v is None:
                if f.non_null:
                    raise Fallback(key)
                if f.private_null:
                    self.branches.append(_PRIVATE)
                d[key] = None
            elif f.is_list:
                if single is not None and not has_none(v):  # the usual list: each item built, no lookups
                    d[key] = items = [make(item) for item in v]
                    children += v
                    child_out += items
                    continue
                items = []
                for item in v:
                    if item is None:
                        if f.item_non_null:
                            raise Fallback(key)
                        if f.private_null:
                            self.branches.append(_PRIVATE)
                        items.append(None)
                        continue
                    child = answered.get(id(item))
                    if child is None:
                        child = answered[id(item)] = make(item)
                        children.append(item)
                        child_out.append(child)
                    items.append(child)
                d[key] = items
            else:
                child = answered.get(id(v))
                if child is None:
                    child = answered[id(v)] = make(v)
                    children.append(v)
                    child_out.append(child)
                d[key] = child
        if not children:
            return
        if single is not None:
            if single.is_branch:
                self.branches.append(single)
            if single.deferred:
                await self.fill(single, children, child_out)
            return
        await self._by_runtime_type(f, children, child_out)

    async def _by_runtime_type(
        self, f: FieldPlan, children: list[Any], child_out: list[dict[str, Any]]
    ) -> None:
        groups: dict[str, tuple[list[Any], list[dict[str, Any]]]] = {}
        for item, d in zip(children, child_out, strict=True):
            name = self.type_of(item)
            if name is None or name not in f.sub:
                raise Fallback(f.key)
            objs, outs = groups.setdefault(name, ([], []))
            objs.append(item)
            outs.append(d)
        for name, (objs, outs) in groups.items():
            sub = f.sub[name]
            self.branches.append(sub)
            make = sub.make
            for item, d in zip(objs, outs, strict=True):
                d.update(make(item))
            await self.fill(sub, objs, outs)
