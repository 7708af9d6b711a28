"""What a field declares, read by the planner from the same declarations strawberry's executor runs.

A field's contract is more than its resolver: permission classes, field extensions, schema
directives, and the schema extensions that wrap every resolver call. The compiled path honours
each one the way strawberry does or refuses to compile the field: there is no list of fields
that need care, only a list of declarations the compiled path knows how to apply.

- Permission classes (strawberry's `PermissionExtension`) become a `PermissionGuard`: the same
  `has_permission(source, info, **kwargs)` calls, for every parent, before the field's value is
  read. Anything but `True` (False, an error, fail-silently) hands the request to the standard
  executor, which answers with exactly its own errors or nulls: denials cost one evaluation
  more and are never answered differently.
- Any other field extension, and any schema directive that is not pure schema metadata, makes
  the field not compilable.
- A schema extension that wraps resolvers (`SchemaExtension.resolve`) turns the compiled path
  off for the whole schema, unless it only observes (tracing spans).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.types.field import StrawberryField


class NotCompilable(Exception):
    """The document uses something the compiled path does not do; serve it the standard way."""


class Denied(Exception):
    """A permission did not grant the field: the standard executor must answer (with its error)."""


# Schema extensions whose `resolve` hook only watches (by module and class name, so that nothing
# optional is imported to compare): the compiled path emits its own spans.
OBSERVING_EXTENSIONS = frozenset(
    f"strawberry.extensions.tracing.opentelemetry.{name}"
    for name in ("OpenTelemetryExtension", "OpenTelemetryExtensionSync")
)


class CompiledInfo:
    """The `info` a permission or root resolver gets on the compiled path. Ours read `context`
    (and a field's names); anything else raises AttributeError, and the request falls back."""

    __slots__ = ("context", "field_name", "python_name")

    def __init__(self, context: Any, field_name: str, python_name: str) -> None:
        self.context = context
        self.field_name = field_name
        self.python_name = python_name


@dataclass(frozen=True, slots=True)
class PermissionGuard:
    """A field's permission classes, evaluated as strawberry's PermissionExtension does."""

    permissions: tuple[BasePermission, ...]
    field_name: str
    python_name: str

    async def check(self, context: Any, sources: Iterable[Any], kwargs: dict[str, Any]) -> None:
        info = CompiledInfo(context, self.field_name, self.python_name)
        for source in sources:
            for permission in self.permissions:
                granted = permission.has_permission(source, info, **kwargs)  # type: ignore[arg-type]
                if inspect.isawaitable(granted):
                    granted = await granted
                if granted is not True:
                    raise Denied(f"{type(permission).__name__} on {self.field_name}")


def _metadata_only(directive: Any, guarded: list[BasePermission]) -> bool:
    """A schema directive that only annotates the SDL: federation's, the ones permission classes
    add for their own checks, and any class that says so with `omnigate_metadata_only = True`."""
    if any(directive is p.schema_directive for p in guarded):
        return True
    cls = type(directive)
    return bool(getattr(cls, "omnigate_metadata_only", False)) or cls.__module__.startswith(
        "strawberry.federation."
    )


def field_guards(field: StrawberryField, name: str) -> tuple[PermissionGuard, ...]:
    """The guards the declarations of field `name` need on the compiled path, or NotCompilable."""
    guards: list[PermissionGuard] = []
    permissions: list[BasePermission] = []
    for extension in field.extensions:
        if type(extension) is not PermissionExtension:
            raise NotCompilable(f"{name}: field extension {type(extension).__name__}")
        permissions += extension.permissions
        guards.append(PermissionGuard(tuple(extension.permissions), name, field.python_name))
    for directive in field.directives:
        if not _metadata_only(directive, permissions):
            raise NotCompilable(f"{name}: directive {type(directive).__name__}")
    return tuple(guards)


def resolver_wrappers(extensions: Iterable[SchemaExtension]) -> list[str]:
    """Names of the schema extensions that wrap every resolver call and do more than watch."""
    found = []
    for extension in extensions:
        cls = type(extension)
        if (
            extension._implements_resolve()
            and f"{cls.__module__}.{cls.__qualname__}" not in OBSERVING_EXTENSIONS
        ):
            found.append(cls.__qualname__)
    return found
