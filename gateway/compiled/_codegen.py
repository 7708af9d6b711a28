"""Code generation: each selection plan gets a Python function that builds one output object.

The function reads the record's plain attributes, calls its plain functions (global ids, enum
and scalar serializers) and builds the nested objects that need nothing else, all in one dict
display, in selection order; fields that need a batch call (and objects under them) are left as
None placeholders for the runner, which fills them level by level. This is what graphql-jit
does for JavaScript: no per-field dispatch where a field is a plain read.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import repeat
from operator import is_
from typing import TYPE_CHECKING, Any

from gateway.compiled._kinds import ATTR, SYNC, TYPENAME

if TYPE_CHECKING:
    from gateway.compiled._plan import FieldPlan, SelectionPlan


class Fallback(Exception):
    """The compiled path cannot produce this response; the standard executor must."""


def has_none(values: Any) -> bool:
    """`None in values` by identity: `in` calls each record's dataclass __eq__ (Python code)."""
    return any(map(is_, values, repeat(None)))


def _leaf_list(values: Any, leaf: Callable[[Any], Any] | None, item_non_null: bool, key: str) -> list[Any]:
    if item_non_null and None in values:
        raise Fallback(key)
    if leaf is None:
        return list(values)
    return [None if x is None else leaf(x) for x in values]


def _object_list(
    values: Any, make: Callable[[Any], dict[str, Any]], item_non_null: bool, key: str
) -> list[Any]:
    if has_none(values):
        if item_non_null:
            raise Fallback(key)
        return [None if x is None else make(x) for x in values]
    return [make(x) for x in values]


def inlined(f: FieldPlan) -> bool:
    """Whether the generated function computes this field itself."""
    if f.kind == TYPENAME:
        return True
    if f.guards or f.kind not in (ATTR, SYNC):  # a guarded field waits for its permission check
        return False
    if f.is_leaf:
        return True
    if len(f.sub) != 1:
        return False
    [sub] = f.sub.values()
    return not sub.is_branch and not sub.deferred


def compile_selection(plan: SelectionPlan) -> None:
    """Set `plan.make` and `plan.deferred`."""
    names: dict[str, Any] = {
        "Fallback": Fallback,
        "_leaf_list": _leaf_list,
        "_object_list": _object_list,
    }
    body: list[str] = []
    items: list[str] = []
    deferred: list[FieldPlan] = []
    for i, f in enumerate(plan.fields):
        key = repr(f.key)
        if not inlined(f):
            deferred.append(f)
            items.append(f"{key}: None")
            continue
        if f.kind == TYPENAME:
            items.append(f"{key}: {plan.type_name!r}")
            continue
        var = f"v{i}"
        if f.kind == ATTR and f.attr is not None and f.attr.isidentifier():
            body.append(f"{var} = p.{f.attr}")
        else:
            names[f"g{i}"] = f.getter
            body.append(f"{var} = g{i}(p)")
        if f.non_null:
            body.append(f"if {var} is None: raise Fallback({key})")
        if f.is_leaf:
            convert_one, list_helper = f.leaf, "_leaf_list"
        else:
            [sub] = f.sub.values()
            convert_one, list_helper = sub.make, "_object_list"
        if convert_one is None and not f.is_list:  # a value JSON takes as it is
            items.append(f"{key}: {var}")
            continue
        names[f"c{i}"] = convert_one
        convert = f"{list_helper}({var}, c{i}, {f.item_non_null}, {key})" if f.is_list else f"c{i}({var})"
        if f.non_null:
            body.append(f"{var} = {convert}")
        else:
            body.append(f"if {var} is not None: {var} = {convert}")
        items.append(f"{key}: {var}")
    lines = ["def make(p):", *(f"    {line}" for line in body), f"    return {{{', '.join(items)}}}"]
    exec(compile("\n".join(lines), f"<plan {plan.type_name}>", "exec"), names)
    plan.make = names["make"]
    plan.deferred = deferred
