"""Apollo Federation v2 subgraph mode (`GATEWAY_FEDERATION=true`, off by default): the entities a
supergraph joins on, keyed by their global id, through strawberry's federation support.

`_service { sdl }` gives the subgraph's SDL with `@key(fields: "id")` on Product, ProductVariant,
Location and Order; `_entities(representations:)` resolves them exactly as `node(id:)` does, with
the same authorization (an Order only for its member or staff of its locations, else null).

The keys are schema directives on the types' strawberry definitions, which strawberry's printer
reads when it prints: they are put there for a federated schema and taken away for the default
one, so that the default schema (and `schema.graphql`) stays exactly as it is. A process serves
one of the two.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.federation.schema_directives import Key
from strawberry.types import Info

from resolvers.errors import BadUserInput
from schema.catalog import Product, ProductVariant
from schema.common import Node
from schema.locations import Location
from schema.node import _decode, _resolve
from schema.orders import Order

ENTITIES: tuple[type[Node], ...] = (Product, ProductVariant, Location, Order)


async def resolve_reference(cls: type[Node], info: Info, id: strawberry.ID, **_: Any) -> Any:
    """One representation `{__typename, id}`: the record `node(id:)` would give, or null."""
    ((node_type, key),) = _decode([id], "representations")
    if node_type is not cls:
        expected = cls.__strawberry_definition__.name
        raise BadUserInput(f"`id` is not the id of a {expected}", field="representations")
    return (await _resolve(info, [(node_type, key)]))[0]


def entity_keys(on: bool) -> None:
    """Put `@key(fields: "id")` on the entities (a federated schema), or take it away (the default)."""
    for entity in ENTITIES:
        definition = entity.__strawberry_definition__
        kept = [d for d in definition.directives if not isinstance(d, Key)]
        definition.directives = [*kept, Key(fields="id")] if on else kept
        if on:
            entity.resolve_reference = classmethod(resolve_reference)  # type: ignore[attr-defined]
        elif "resolve_reference" in vars(entity):
            del entity.resolve_reference  # type: ignore[attr-defined]
