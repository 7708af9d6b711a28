"""`node` and `nodes`: any global id, resolved by the type it names."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

import strawberry
from strawberry.types import Info

from resolvers.errors import BadUserInput
from schema.common import Node
from schema.ids import from_global_id

MAX_NODES = 250


def _node_types() -> dict[str, type[Node]]:
    # Every type that implements Node, by its GraphQL name: no registry to keep by hand.
    return {cls.__strawberry_definition__.name: cls for cls in Node.__subclasses__()}


def _decode(ids: list[str], argument: str) -> list[tuple[type[Node], Any]]:
    types = _node_types()
    decoded = []
    for value in ids:
        type_name, key = from_global_id(value, argument)
        node_type = types.get(type_name)
        if node_type is None:
            raise BadUserInput(f"`{argument}` names no type of this schema", field=argument)
        decoded.append((node_type, node_type.parse_key(key, argument)))
    return decoded


async def _resolve(info: Info, decoded: list[tuple[type[Node], Any]]) -> list[Any]:
    by_type: dict[type[Node], list[Any]] = defaultdict(list)
    for node_type, key in decoded:
        by_type[node_type].append(key)
    types = list(by_type)
    found = await asyncio.gather(*(t.resolve_nodes(info, by_type[t]) for t in types))
    records = {
        (t, key): rec
        for t, recs in zip(types, found, strict=True)
        for key, rec in zip(by_type[t], recs, strict=True)
    }
    return [records[pair] for pair in decoded]


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Any object by its global id; null when it does not exist.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return (await _resolve(info, _decode([id], "id")))[0]

    @strawberry.field(description="Objects by global id, in the order given; null for the missing.")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            raise BadUserInput(f"at most {MAX_NODES} ids", field="ids")
        return await _resolve(info, _decode(ids, "ids"))
