"""The internals of strawberry, graphql-core and aiodataloader the gateway relies on: one test each.

pyproject.toml caps the three to the minor versions tested. When an upgrade moves one of these
(a private name, a signature, a class attribute strawberry reads), its test fails saying what moved
and which file of ours uses it, instead of the gateway misbehaving quietly. To upgrade: raise the
cap, run this file, adapt the files it names, then run their tests.
"""

from __future__ import annotations

import dataclasses
import inspect
import tomllib
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent


def need(condition: Any, what: str, used_by: str) -> None:
    assert condition, (
        f"Upgrade check: {what} moved or changed. {used_by} relies on it: adapt it there, then "
        "raise the cap in pyproject.toml (see tests/test_internals.py)."
    )


def params(fn: Any) -> list[str]:
    return list(inspect.signature(fn).parameters)


def source(obj: Any) -> str:
    return inspect.getsource(obj)


# --- the caps ---


@pytest.mark.parametrize("package", ["strawberry-graphql", "graphql-core", "aiodataloader"])
def test_the_installed_version_is_within_the_tested_cap(package: str):
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    requirement = next(Requirement(d) for d in declared if Requirement(d).name == package)
    assert any(spec.operator in ("<", "<=", "==", "~=") for spec in requirement.specifier), (
        f"{package} has no upper bound in pyproject.toml: cap it to the versions tested"
    )
    installed = version(package)
    assert requirement.specifier.contains(installed, prereleases=True), (
        f"{package} {installed} is installed, pyproject.toml says {requirement.specifier}"
    )


# --- strawberry: the HTTP view and its stream transports (gateway/transport: view.py, endpoint.py) ---


def test_strawberry_chooses_the_stream_transport_through_the_method_we_override():
    from strawberry.http.async_base_view import AsyncBaseHTTPView
    from strawberry.http.base import BaseView

    used_by = "gateway/transport/view.py GatewayGraphQL._get_stream_transport_from_headers (Accept)"
    need(
        hasattr(BaseView, "_get_stream_transport_from_headers"),
        "BaseView._get_stream_transport_from_headers",
        used_by,
    )
    need(params(BaseView._get_stream_transport_from_headers) == ["self", "headers"], "its signature", used_by)
    need(
        "self._get_stream_transport_from_headers(" in source(AsyncBaseHTTPView),
        "AsyncBaseHTTPView calling _get_stream_transport_from_headers",
        used_by,
    )
    need(
        params(BaseView._get_stream_transport) == ["self", "protocol"],
        "BaseView._get_stream_transport",
        used_by,
    )


def test_strawberry_reads_stream_transport_classes_by_protocol():
    from strawberry.http.base import BaseView

    used_by = "gateway/transport/view.py GatewayGraphQL.stream_transport_classes_by_protocol (LineFeedSSE)"
    need(
        hasattr(BaseView, "stream_transport_classes_by_protocol"),
        "BaseView.stream_transport_classes_by_protocol",
        used_by,
    )
    need(
        "self.stream_transport_classes_by_protocol" in source(BaseView),
        "BaseView reading stream_transport_classes_by_protocol",
        used_by,
    )


def test_the_sse_transport_encodes_events_and_comments_in_methods_we_override():
    from strawberry.http.streaming import HTTPStreamTransport, MultipartSubscriptionTransport, SSETransport

    used_by = "gateway/transport/view.py LineFeedSSE"
    need(issubclass(SSETransport, HTTPStreamTransport), "strawberry.http.streaming.SSETransport", used_by)
    need(
        issubclass(MultipartSubscriptionTransport, HTTPStreamTransport),
        "MultipartSubscriptionTransport",
        used_by,
    )
    need(params(SSETransport.encode_event) == ["self", "event", "data"], "SSETransport.encode_event", used_by)
    need(params(SSETransport.encode_comment) == ["self", "comment"], "SSETransport.encode_comment", used_by)
    need("\r\n" in SSETransport().encode_event("next", "{}"), "SSETransport's CRLF line ends", used_by)


def test_the_view_hooks_we_override_keep_their_signatures():
    from strawberry.asgi import GraphQL

    used_by = "gateway/transport/view.py GatewayGraphQL (execute_single, create_streaming_response)"
    need(
        "request_data" in params(GraphQL.execute_single), "GraphQL.execute_single(request_data=...)", used_by
    )
    need(
        params(GraphQL.create_streaming_response) == ["self", "request", "stream", "sub_response", "headers"],
        "GraphQL.create_streaming_response",
        used_by,
    )
    for attribute in ("websocket_adapter_class", "graphql_transport_ws_handler_class"):
        need(hasattr(GraphQL, attribute), f"GraphQL.{attribute}", "gateway/transport/view.py GatewayGraphQL")


# --- strawberry: graphql-transport-ws (gateway/transport/fanout.py) ---


def test_the_transport_ws_handler_runs_operations_through_run_operation():
    from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
        BaseGraphQLTransportWSHandler,
        Operation,
    )

    used_by = "gateway/transport/fanout.py GroupedTransportWS"
    need(
        params(BaseGraphQLTransportWSHandler.run_operation) == ["self", "operation"], "run_operation", used_by
    )
    need(
        "self.run_operation(" in source(BaseGraphQLTransportWSHandler),
        "the handler calling run_operation",
        used_by,
    )
    for name in (
        "id",
        "query",
        "variables",
        "operation_name",
        "send_operation_message",
        "send_initial_errors",
    ):
        need(name in dir(Operation) or name in source(Operation.__init__), f"Operation.{name}", used_by)
    init = source(BaseGraphQLTransportWSHandler.__init__)
    for name in ("self.view", "self.websocket", "self.context"):
        need(name in init, f"BaseGraphQLTransportWSHandler's {name}", used_by)


def test_the_aio_and_execution_helpers_fanout_imports():
    from strawberry.types.execution import ExecutionResult, PreExecutionError
    from strawberry.utils.aio import aclosing

    used_by = "gateway/transport/fanout.py"
    need(dataclasses.is_dataclass(ExecutionResult), "strawberry.types.execution.ExecutionResult", used_by)
    need(
        issubclass(PreExecutionError, ExecutionResult),
        "strawberry.types.execution.PreExecutionError",
        used_by,
    )
    need(callable(aclosing), "strawberry.utils.aio.aclosing", used_by)


# --- strawberry: the schema (schema/__init__.py, schema/federation.py, gateway/protections/documents.py) ---


def test_the_base_scalar_definitions_are_dataclasses_with_specified_by_url():
    from strawberry.schema.types.base_scalars import DateDefinition, DateTimeDefinition, DecimalDefinition

    used_by = "schema/__init__.py SCALARS (dataclasses.replace for @specifiedBy)"
    for definition in (DateDefinition, DateTimeDefinition, DecimalDefinition):
        need(dataclasses.is_dataclass(definition), "strawberry's base scalar definitions", used_by)
        fields = {f.name for f in dataclasses.fields(definition)}
        need({"description", "specified_by_url"} <= fields, "ScalarDefinition.specified_by_url", used_by)


def test_the_core_execution_context_builds_with_hide_suggestions():
    from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

    used_by = "schema/__init__.py WithoutSuggestions (build(..., hide_suggestions=True))"
    build = getattr(StrawberryGraphQLCoreExecutionContext, "build", None)
    need(build is not None, "StrawberryGraphQLCoreExecutionContext.build", used_by)
    need("hide_suggestions" in params(build), "the build classmethod's hide_suggestions", used_by)


def test_a_built_schema_exposes_the_core_schema_converter_and_config():
    from graphql import GraphQLSchema

    from schema import build_schema

    built = build_schema()
    used_by = "gateway: process.py, pricing.py, compiled/ (schema._schema, scalar_registry, config)"
    need(isinstance(getattr(built, "_schema", None), GraphQLSchema), "strawberry.Schema._schema", used_by)
    need(
        isinstance(built.schema_converter.scalar_registry, dict), "schema_converter.scalar_registry", used_by
    )
    need(built.config is not None, "strawberry.Schema.config", used_by)


def test_strawberry_adds_the_validation_rules_documents_adds():
    from strawberry.schema import schema as strawberry_schema
    from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
    from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

    used_by = "gateway/protections/documents.py _STRAWBERRY_RULES"
    text = source(strawberry_schema.validate_document)
    for rule in (MaybeNullValidationRule, OneOfInputValidationRule):
        need(rule.__name__ in text, f"strawberry validating with {rule.__name__} (and no other)", used_by)


def test_federation_reads_definition_directives_and_resolve_reference():
    from strawberry.federation import schema as federation_schema
    from strawberry.federation.schema_directives import Key

    from schema.catalog import Product

    used_by = "schema/federation.py entity_keys"
    definition = Product.__strawberry_definition__
    need(isinstance(definition.directives, list), "__strawberry_definition__.directives (a list)", used_by)
    need(
        "resolve_reference" in source(federation_schema),
        "federation calling the type's resolve_reference",
        used_by,
    )
    need(params(Key)[:1] == ["fields"], "strawberry.federation.schema_directives.Key(fields=...)", used_by)


def test_the_field_and_resolver_attributes_the_planner_reads():
    import strawberry
    from strawberry.permission import BasePermission, PermissionExtension
    from strawberry.types.field import StrawberryField

    class Allow(BasePermission):
        def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
            return True

    @strawberry.type
    class Probe:
        @strawberry.field(permission_classes=[Allow])
        async def value(self, n: int) -> int:
            return n

        @strawberry.field
        def plain(self) -> int:
            return 1

    used_by = "gateway/compiled/_plan.py and _declarations.py (the planner)"
    fields = {f.python_name: f for f in Probe.__strawberry_definition__.fields}
    field = fields["value"]
    need(isinstance(field, StrawberryField), "StrawberryField", used_by)
    for name in ("extensions", "directives", "arguments", "metadata", "base_resolver", "python_name"):
        need(hasattr(field, name), f"StrawberryField.{name}", used_by)
    extension = field.extensions[0]
    need(
        type(extension) is PermissionExtension and extension.permissions,
        "PermissionExtension.permissions",
        used_by,
    )
    resolver = fields["plain"].base_resolver
    for name in ("_unbound_wrapped_func", "wrapped_func", "is_async", "arguments", "info_parameter",
                 "self_parameter", "root_parameter", "name"):  # fmt: skip
        need(hasattr(resolver, name), f"StrawberryResolver.{name}", used_by)
    need(resolver._unbound_wrapped_func(None) == 1, "StrawberryResolver._unbound_wrapped_func", used_by)


def test_schema_extensions_say_whether_they_wrap_resolvers():
    from strawberry.extensions import SchemaExtension
    from strawberry.extensions.tracing.opentelemetry import OpenTelemetryExtension

    used_by = "gateway/compiled/_declarations.py resolver_wrappers, OBSERVING_EXTENSIONS"
    need(hasattr(SchemaExtension, "_implements_resolve"), "SchemaExtension._implements_resolve", used_by)
    need(
        OpenTelemetryExtension.__module__ == "strawberry.extensions.tracing.opentelemetry",
        "its module",
        used_by,
    )


def test_convert_arguments_takes_the_registry_and_config():
    from strawberry.types.arguments import convert_arguments

    used_by = "gateway/compiled/__init__.py CompiledExecutor._convert"
    need(
        params(convert_arguments)[:4] == ["value", "arguments", "scalar_registry", "config"],
        "convert_arguments",
        used_by,
    )


# --- graphql-core (gateway/compiled, gateway/pricing.py) ---


def test_graphql_core_variable_values_and_argument_values():
    from graphql.execution.values import VariableValues, get_argument_values, get_variable_values

    used_by = "gateway/compiled/__init__.py and gateway/pricing.py (VariableValues of graphql-core 3.3)"
    values = VariableValues(sources={}, coerced={})
    need(values.coerced == {}, "graphql.execution.values.VariableValues(sources=, coerced=)", used_by)
    need(
        params(get_argument_values)[:3] == ["type_def", "node", "variable_values"],
        "get_argument_values",
        used_by,
    )
    need(
        params(get_variable_values)[:3] == ["schema", "var_def_nodes", "inputs"],
        "get_variable_values",
        used_by,
    )


# --- aiodataloader (resolvers/loaders.py Loader) ---


async def test_the_dataloader_internals_the_loader_subclass_uses():
    from aiodataloader import DataLoader

    used_by = "resolvers/loaders.py Loader (self._cache, self.loop, load/prime/clear)"

    class Probe(DataLoader[int, int]):
        async def batch_load_fn(self, keys: list[int]) -> list[int]:
            return [k * 2 for k in keys]

    loader = Probe()
    need(isinstance(getattr(loader, "_cache", None), dict), "DataLoader._cache (futures by key)", used_by)
    need(getattr(loader, "loop", None) is not None, "DataLoader.loop", used_by)
    future = loader.load(2)
    need(loader._cache.get(2) is future, "DataLoader._cache holding load()'s future by key", used_by)
    need(await future == 4, "DataLoader.load", used_by)
    for name in ("load_many", "prime", "clear", "clear_all"):
        need(name in vars(DataLoader), f"DataLoader.{name}", used_by)
    loader.prime(3, 6)
    need(3 in loader._cache, "DataLoader.prime filling _cache", used_by)
