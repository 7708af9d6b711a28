"""GraphQL documents and helpers shared by the cart, checkout, order and return tests."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from adapters.store.tables import inventory_levels, reservations
from schema.ids import to_global_id

CART_FIELDS = """
  id channel status expiresAt updatedAt
  subtotal { amount currencyCode } total { amount currencyCode } totalQuantity
  lines {
    id quantity status available held heldUntil
    variant { id sku }
    fulfillment { mode location { id name } }
    unitPrice { amount } total { amount }
    alternatives { location { id kind name } available distanceKm pickupReadyBy }
  }
"""
ORDER_FIELDS = """
  id number channel status
  total { amount currencyCode }
  lines { id sku quantity returnedQuantity unitPrice { amount } variant { id }
          fulfillment { id } }
  fulfillments { id mode status holdExpiresAt location { id } lines { id } }
  statusHistory { status fulfillmentStatus reason occurredAt fulfillment { id } }
  payments { method status amount { amount } refunded { amount } }
  returns { id refundStatus refund { amount } location { id }
            lines { quantity orderLine { id } exchangeVariant { id } } }
"""
ERRORS = "userErrors { field message code }"

CART_CREATE = f"""
mutation ($input: CartCreateInput!) {{
  cartCreate(input: $input) {{ cart {{ {CART_FIELDS} }} {ERRORS} }}
}}"""
CART = f"query ($id: ID!) {{ cart(id: $id) {{ {CART_FIELDS} order {{ id status }} }} }}"
LINES_ADD = f"""
mutation ($cartId: ID!, $lines: [CartLineInput!]!) {{
  cartLinesAdd(cartId: $cartId, lines: $lines) {{ cart {{ {CART_FIELDS} }} {ERRORS} }}
}}"""
LINES_UPDATE = f"""
mutation ($cartId: ID!, $lines: [CartLineUpdateInput!]!) {{
  cartLinesUpdate(cartId: $cartId, lines: $lines) {{ cart {{ {CART_FIELDS} }} {ERRORS} }}
}}"""
LINES_REMOVE = f"""
mutation ($cartId: ID!, $lineIds: [ID!]!) {{
  cartLinesRemove(cartId: $cartId, lineIds: $lineIds) {{ cart {{ {CART_FIELDS} }} {ERRORS} }}
}}"""
CHECKOUT = f"""
mutation ($cartId: ID!, $payment: PaymentInput!, $key: String!) {{
  checkoutComplete(cartId: $cartId, payment: $payment, idempotencyKey: $key) {{
    order {{ {ORDER_FIELDS} }} {ERRORS}
  }}
}}"""
ORDER = f"query ($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"
FULFILLMENT_UPDATE = f"""
mutation ($id: ID!, $status: FulfillmentStatus!) {{
  fulfillmentUpdateStatus(fulfillmentId: $id, status: $status) {{
    fulfillment {{ id status }} order {{ {ORDER_FIELDS} }} {ERRORS}
  }}
}}"""
ORDER_CANCEL = f"""
mutation ($id: ID!, $reason: String) {{
  orderCancel(orderId: $id, reason: $reason) {{ order {{ {ORDER_FIELDS} }} {ERRORS} }}
}}"""
STORE_SALE = f"""
mutation ($input: StoreSaleInput!) {{
  storeSaleRecord(input: $input) {{ order {{ {ORDER_FIELDS} }} {ERRORS} }}
}}"""
RETURN_CREATE = f"""
mutation ($input: ReturnInput!) {{
  returnCreate(input: $input) {{
    return {{ id refundStatus refund {{ amount }} location {{ id }}
              lines {{ quantity orderLine {{ id }} exchangeVariant {{ id }} }} }}
    order {{ {ORDER_FIELDS} }} {ERRORS}
  }}
}}"""
GIFT_CARD_ISSUE = f"""
mutation ($amount: Decimal!) {{
  giftCardIssue(input: {{amount: $amount}}) {{ giftCard {{ code balance {{ amount }} }} {ERRORS} }}
}}"""
ADJUST = """
mutation ($input: InventoryAdjustInput!) {
  inventoryAdjust(input: $input) { userErrors { code message } }
}"""
LEVEL = """
query ($variant: ID!, $location: ID!) {
  node(id: $variant) {
    ... on ProductVariant { inventory(locationIds: [$location]) { onHand reserved available } }
  }
}"""

VISA = {"method": "CARD", "cardToken": "tok_visa"}
DECLINED = {"method": "CARD", "cardToken": "tok_chargeDeclined"}

# Demo locations: 1 Seattle (pickup, ships), 2 Bellevue (pickup), 3 Portland (pickup, ships),
# 5 Berkeley (ships, no pickup), 9 and 10 warehouses.
SEATTLE, BELLEVUE, PORTLAND, BERKELEY, RENO, KENT = 1, 2, 3, 5, 9, 10


def gid(type_name: str, key: int | str) -> str:
    return to_global_id(type_name, key)


def variant_id(n: int) -> str:
    return gid("ProductVariant", n)


def location_id(n: int) -> str:
    return gid("Location", n)


def line(variant: int, quantity: int = 1, mode: str = "SHIP", location: int | None = None) -> dict:
    fulfillment: dict[str, Any] = {"mode": mode}
    if location is not None:
        fulfillment["locationId"] = location_id(location)
    return {"variantId": variant_id(variant), "quantity": quantity, "fulfillment": fulfillment}


async def set_stock(api: Any, variant: int, location: int, on_hand: int) -> None:
    """A cycle count: the location has exactly `on_hand` units."""
    change = {
        "variantId": variant_id(variant),
        "locationId": location_id(location),
        "onHand": on_hand,
    }
    body = await api.data(
        ADJUST, {"input": {"reason": "CYCLE_COUNT", "changes": [change]}}, **api.as_integration()
    )
    assert body["inventoryAdjust"]["userErrors"] == []


async def level(api: Any, variant: int, location: int) -> dict[str, int]:
    data = await api.data(
        LEVEL, {"variant": variant_id(variant), "location": location_id(location)}
    )
    return data["node"]["inventory"][0]


LEAN_CART_CREATE = f"""
mutation ($input: CartCreateInput!) {{ cartCreate(input: $input) {{ cart {{ id }} {ERRORS} }} }}"""
LEAN_CHECKOUT = f"""
mutation ($cartId: ID!, $payment: PaymentInput!, $key: String!) {{
  checkoutComplete(cartId: $cartId, payment: $payment, idempotencyKey: $key) {{
    order {{ id status }} {ERRORS}
  }}
}}"""


async def create_cart(
    api: Any, *lines: dict, channel: str = "WEB", lean: bool = False, **headers: str
) -> dict:
    document = LEAN_CART_CREATE if lean else CART_CREATE
    variables = {"input": {"channel": channel, "lines": list(lines)}}
    payload = (await api.data(document, variables, **headers))["cartCreate"]
    assert payload["userErrors"] == [], payload["userErrors"]
    return payload["cart"]


async def checkout(
    api: Any,
    cart_id: str,
    key: str = "key-1",
    payment: dict | None = None,
    lean: bool = False,
    **headers: str,
) -> dict:
    variables = {"cartId": cart_id, "payment": payment or VISA, "key": key}
    document = LEAN_CHECKOUT if lean else CHECKOUT
    return (await api.data(document, variables, **headers))["checkoutComplete"]


async def reservations_consistent(api: Any) -> None:
    """The invariant: each level's `reserved` is the sum of its reservations."""
    async with api.store.engine.connect() as conn:
        held = {
            (r.variant_id, r.location_id): r.total
            for r in await conn.execute(
                sa.select(
                    reservations.c.variant_id,
                    reservations.c.location_id,
                    sa.func.sum(reservations.c.quantity).label("total"),
                ).group_by(reservations.c.variant_id, reservations.c.location_id)
            )
        }
        levels = {
            (r.variant_id, r.location_id): r.reserved
            for r in await conn.execute(
                sa.select(inventory_levels).where(inventory_levels.c.reserved != 0)
            )
        }
    assert held == levels


async def reservation_count(api: Any) -> int:
    async with api.store.engine.connect() as conn:
        return await conn.scalar(sa.select(sa.func.count()).select_from(reservations))
