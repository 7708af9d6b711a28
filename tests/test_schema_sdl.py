"""schema.graphql at the repo root is the exported SDL; front ends build against it."""

from pathlib import Path

from schema import build_schema

ROOT = Path(__file__).resolve().parent.parent


def test_schema_graphql_is_current():
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == build_schema().as_str() + "\n", (
        "schema.graphql is stale: run `omnigate export-schema -o schema.graphql`"
    )


def test_contract_names_are_present():
    sdl = build_schema().as_str()
    for name in (
        "node(id: ID!): Node",
        "nodes(ids: [ID!]!): [Node]!",
        "product(id: ID = null, handle: String = null): Product",
        "location(id: ID!): Location",
        "quantityAvailable: Int!",
        "storeAvailability(near: GeoPointInput!, radiusKm: Float = null, first: Int = 5",
        "inventory(locationIds: [ID!] = null): [InventoryLevel!]!",
        "inventoryAdjust(input: InventoryAdjustInput!): InventoryAdjustPayload!",
        "enum Channel",
    ):
        assert name in sdl, name
