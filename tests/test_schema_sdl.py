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


def test_cart_and_order_contract_names_are_present():
    sdl = build_schema().as_str()
    for name in (
        "cart(id: ID!): Cart",
        "order(id: ID!): Order",
        "type Cart implements Node",
        "type Order implements Node",
        "cartCreate(input: CartCreateInput!): CartCreatePayload!",
        "cartLinesAdd(cartId: ID!, lines: [CartLineInput!]!)",
        "cartLinesUpdate(cartId: ID!, lines: [CartLineUpdateInput!]!)",
        "cartLinesRemove(cartId: ID!, lineIds: [ID!]!)",
        "checkoutComplete(cartId: ID!, payment: PaymentInput!, idempotencyKey: String!",
        "orderCancel(orderId: ID!, reason: String = null)",
        "fulfillmentUpdateStatus(fulfillmentId: ID!, status: FulfillmentStatus!)",
        "storeSaleRecord(input: StoreSaleInput!)",
        "returnCreate(input: ReturnInput!)",
        "alternatives(near: GeoPointInput = null, first: Int! = 3): [StoreAvailability!]!",
        "statusHistory: [OrderStatusChange!]!",
        "returns: [Return!]!",
        "expiresAt: DateTime!",
        "status: LineStatus!",
    ):
        assert name in sdl, name
    for enum, members in {
        "FulfillmentMode": ("SHIP", "PICKUP", "RESERVE", "SHIP_FROM_STORE"),
        "Channel": ("WEB", "MOBILE_APP", "STORE", "PARTNER"),
    }.items():
        block = sdl.split(f"enum {enum} {{", 1)[1].split("}", 1)[0]
        assert all(m in block.split() for m in members), enum
