"""The compiled path gives exactly the standard executor's answer, or steps aside.

Every contract operation, and generated variations of them, runs through both; the JSON must be
byte-identical (same values, same key order). Documents the compiled path cannot run, and every
request that ends in an error, must be answered by the standard executor.
"""

import random
from typing import Any

import orjson
import pytest
import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    parse,
)
from strawberry.extensions import FieldExtension, SchemaExtension
from strawberry.permission import BasePermission
from strawberry.schema_directive import Location

from gateway.compiled import CompiledExecutor
from resolvers.principal import ANONYMOUS
from schema.ids import to_global_id

SEATTLE = {"latitude": 47.6097, "longitude": -122.3422}

OPERATIONS = [
    (
        """query Listing { products(first: 50) { edges { cursor node { id title handle
             priceRange { minVariantPrice { amount currencyCode } maxVariantPrice { amount } }
             variants { id sku title price { amount currencyCode } compareAtPrice { amount }
               quantityAvailable inventory { onHand reserved available updatedAt location { id name } } } } }
           pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }""",
        None,
    ),
    (
        """query Page($handle: String!, $near: GeoPointInput!) { product(handle: $handle) {
             id title description vendor category tags images { url altText width height }
             availableForSale createdAt updatedAt
             variants { id selectedOptions { name value } product { handle }
               storeAvailability(near: $near, radiusKm: 100, first: 3) {
                 available distanceKm pickupReadyBy
                 location { id name kind pickupEnabled address { city provinceCode }
                   geo { latitude longitude } openingHours { day opens closes } } } } } }""",
        {"handle": None, "near": SEATTLE},
    ),
    (
        """query Nodes($ids: [ID!]!) { nodes(ids: $ids) { __typename id
             ... on Product { title variants { sku } }
             ...VariantBits
             ... on Location { name kind timezone } } }
           fragment VariantBits on ProductVariant { sku price { amount } product { title } }""",
        {
            "ids": [
                to_global_id("Product", 3),
                to_global_id("Location", 2),
                to_global_id("ProductVariant", 7),
                to_global_id("Product", 999999),
            ]
        },
    ),
    (
        """query Near($near: GeoPointInput, $after: String) {
             locations(first: 4, near: $near, after: $after, kind: STORE) {
               edges { cursor distanceKm node { id name shipFromStoreEnabled } }
               nodes { code } pageInfo { hasNextPage endCursor } } }""",
        {"near": SEATTLE, "after": None},
    ),
    (
        """query Aliases($withStock: Boolean!, $skipTitle: Boolean!, $locs: [ID!]) {
             a: products(first: 5, sortKey: TITLE, reverse: true) {
               nodes { t: title title @skip(if: $skipTitle)
               variants { inventory(locationIds: $locs) @include(if: $withStock) { available }
                          sku @include(if: true) } } }
             b: products(first: 3, query: "jacket", category: "Jackets") { nodes { handle vendor } }
             categories
             __typename }""",
        {"withStock": True, "skipTitle": False, "locs": [to_global_id("Location", 1)]},
    ),
    (
        """{ product(id: "UHJvZHVjdDox") { id title }
             location(id: "TG9jYXRpb246Mw==") { name address { address1 } }
             node(id: "UHJvZHVjdFZhcmlhbnQ6Mg==") { id ... on ProductVariant { title } } }""",
        None,
    ),
]


def make_context(gateway):
    return gateway.context(ANONYMOUS, "test")


async def both(gateway, query, variables):
    """Both executors at one moment (a pickup time is `now` plus a lead time while a store is open)."""
    document = gateway.documents.get(query)
    assert not document.errors, document.errors
    compiled_context, standard_context = make_context(gateway), make_context(gateway)
    moment = gateway.clock()
    compiled_context.clock = standard_context.clock = lambda: moment
    compiled = await gateway.compiled.execute(document.node, None, variables, compiled_context)
    standard = await gateway.schema.execute(query, variable_values=variables, context_value=standard_context)
    return compiled, standard


async def first_handle(api):
    return (await api.data("{ products(first: 1) { nodes { handle } } }"))["products"]["nodes"][0]["handle"]


@pytest.mark.parametrize("index", range(len(OPERATIONS)))
async def test_contract_operations_compile_to_the_same_answer(api, index):
    query, variables = OPERATIONS[index]
    if variables and "handle" in variables:
        variables = {**variables, "handle": await first_handle(api)}
    compiled, standard = await both(api.gateway, query, variables)
    assert standard.errors is None, standard.errors
    assert compiled is not None, "expected this operation to run on the compiled path"
    assert orjson.dumps(compiled.data) == orjson.dumps(standard.data)


async def test_paging_through_locations_matches(api):
    query, variables = OPERATIONS[3]
    page1, _ = await both(api.gateway, query, variables)
    after = page1.data["locations"]["pageInfo"]["endCursor"]
    compiled, standard = await both(api.gateway, query, {**variables, "after": after})
    assert compiled is not None
    assert orjson.dumps(compiled.data) == orjson.dumps(standard.data)


@pytest.mark.parametrize(
    "query",
    [
        '{ product(id: "bad") { id } }',  # a resolver error
        '{ product(handle: "no-such-product") { id } }',
        "{ products(first: 1000) { nodes { id } } }",
        "{ __schema { queryType { name } } }",  # introspection is not compiled
        "mutation { inventoryAdjust(input: {reason: RECEIPT, changes: []}) { userErrors { code } } }",
    ],
)
async def test_errors_and_the_uncompilable_fall_back(api, query):
    document = api.gateway.documents.get(query)
    assert await api.gateway.compiled.execute(document.node, None, None, make_context(api.gateway)) is None


async def test_http_answers_are_identical_with_and_without_the_compiled_path(api):
    api.stop_clock()  # both rounds at one moment: pickup times are `now` + lead
    handle = await first_handle(api)
    requests = [(q, {**v, "handle": handle} if v and "handle" in v else v) for q, v in OPERATIONS]
    requests += [('{ product(id: "bad") { id } }', None), ("{ products(first: 3) { nodes { id } } }", None)]
    before = api.gateway.compiled.compiled
    with_compiled = [(await api.post(q, v)).content for q, v in requests]
    assert api.gateway.compiled.compiled - before == len(OPERATIONS) + 1
    compiled, api.gateway.compiled = api.gateway.compiled, None
    try:
        endpoint = next(r for r in api.app.routes if getattr(r, "path", "") == "/graphql").app
        saved, endpoint.compiled = endpoint.compiled, None
        without = [(await api.post(q, v)).content for q, v in requests]
    finally:
        endpoint.compiled = saved
        api.gateway.compiled = compiled
    assert with_compiled == without


# Generated variations: random selections over the catalog types, with aliases and fragments.

ARGUMENTS = {
    "storeAvailability": "(near: {latitude: 37.77, longitude: -122.42}, radiusKm: 700, first: 2)",
    "inventory": "",
}


def selection(gtype, rng, depth):
    fields = list(gtype.fields.items())
    rng.shuffle(fields)
    parts = []
    for name, field in fields[: rng.randint(1, len(fields))]:
        if name in ("recommendations",):
            continue
        inner = field.type
        while isinstance(inner, GraphQLNonNull | GraphQLList):
            inner = inner.of_type
        required = [a for a, d in field.args.items() if isinstance(d.type, GraphQLNonNull)]
        args = ARGUMENTS.get(name, "")
        if required and not args:
            continue
        alias = f"{name}_{rng.randint(0, 9)}: " if rng.random() < 0.3 else ""
        if isinstance(inner, GraphQLScalarType | GraphQLEnumType):
            parts.append(f"{alias}{name}{args}")
        elif isinstance(inner, GraphQLObjectType) and depth < 4:
            sub = selection(inner, rng, depth + 1)
            if rng.random() < 0.2:
                sub = f"... on {inner.name} {{ {sub} }}"
            parts.append(f"{alias}{name}{args} {{ {sub} }}")
    return " ".join(parts) or "__typename"


@pytest.mark.parametrize("seed", range(25))
async def test_generated_variations_match(api, seed):
    rng = random.Random(seed)
    product = api.gateway.schema._schema.type_map["Product"]
    fields = selection(product, rng, 0)
    query = f"{{ products(first: {rng.randint(1, 20)}, sortKey: TITLE) {{ nodes {{ {fields} }} }} }}"
    compiled, standard = await both(api.gateway, query, None)
    assert standard.errors is None, (query, standard.errors)
    assert compiled is not None, query
    assert orjson.dumps(compiled.data) == orjson.dumps(standard.data), query


# What a field declares is honoured by the compiled path, or the field is not compiled.


class _Deny(BasePermission):
    message = "no"

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return info.context["allow"]


class _Upper(FieldExtension):
    def resolve(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        return next_(source, info, **kwargs).upper()


@strawberry.schema_directive(locations=[Location.FIELD_DEFINITION])
class _Audited:
    reason: str


@strawberry.type
class _Secret:
    name: str
    code: str = strawberry.field(permission_classes=[_Deny])
    shout: str = strawberry.field(extensions=[_Upper()], default="hi")
    audited: str = strawberry.field(directives=[_Audited(reason="pii")], default="a")


@strawberry.type
class _Query:
    @strawberry.field
    async def secret(self, info: strawberry.Info) -> _Secret:
        return _Secret(name="n", code="c")

    @strawberry.field(permission_classes=[_Deny])
    async def guarded(self, info: strawberry.Info) -> str:
        return "inside"


class _Wrapping(SchemaExtension):
    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        return _next(root, info, *args, **kwargs)


async def _compiled(query: str, allow: bool, extensions: list[Any] | None = None) -> Any:
    schema = strawberry.Schema(query=_Query, extensions=extensions or [])
    executor = CompiledExecutor(schema)
    result = await executor.execute(parse(query), None, None, {"allow": allow})
    standard = await schema.execute(query, context_value={"allow": allow})
    return result, standard


@pytest.mark.parametrize("query", ["{ guarded }", "{ secret { name code } }"])
async def test_permission_classes_run_on_the_compiled_path(query):
    granted, standard = await _compiled(query, True)
    assert granted is not None and granted.data == standard.data
    refused, standard = await _compiled(query, False)
    assert refused is None  # the standard executor answers, with its error
    assert standard.errors and standard.errors[0].message == "no"


@pytest.mark.parametrize("query", ["{ secret { shout } }", "{ secret { audited } }"])
async def test_fields_with_extensions_or_directives_the_planner_does_not_apply_are_not_compiled(query):
    result, standard = await _compiled(query, True)
    assert result is None
    assert standard.errors is None
    plain, _ = await _compiled("{ secret { name } }", True)
    assert plain is not None


async def test_a_schema_extension_that_wraps_resolvers_turns_the_compiled_path_off():
    result, _ = await _compiled("{ secret { name } }", True, [_Wrapping])
    assert result is None


async def test_an_operation_directive_the_executor_does_not_apply_is_not_compiled(api):
    """The gateway's executor applies @inContext before it runs a plan; a compiled executor that
    does not is never given such an operation."""
    query = 'query @inContext(country: "CA") { products(first: 1) { nodes { title } } }'
    document = api.gateway.documents.get(query)
    assert not document.errors, document.errors
    plain = CompiledExecutor(api.gateway.schema)
    assert await plain.execute(document.node, None, None, make_context(api.gateway)) is None
    assert await api.gateway.compiled.execute(document.node, None, None, make_context(api.gateway))
