"""The demo retailer's past: orders of the last months on every channel, so that
recommendations, loyalty tiers and order history show something on a first start.

Deterministic (one Random, the catalog's ids) and shaped like the database rows; dates count
back from `now`, so the history is always recent. Members' points are not written here: the
sweeper's loyalty catch-up credits every completed member order at the configured earn rate.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

# Who bought, how often: Ana (m1) is a regular at her preferred store, Chloe (m3) bought once,
# Ben (m2) never did (his recommendations fall back to best sellers); the rest are guests.
BUYERS = (("m1", 6), ("m3", 1), (None, 33))
# Categories bought together: the co-purchase signal recommendations learn from.
BASKETS = (
    ("Jackets", "Base Layers"),
    ("Jackets", "Fleece & Midlayers"),
    ("Tents", "Sleeping Bags"),
    ("Backpacks", "Accessories"),
    ("Footwear", "Accessories"),
    ("Pants", "Base Layers"),
)
DAYS_BACK = 150


@dataclass(slots=True)
class DemoHistory:
    orders: list[dict] = field(default_factory=list)
    order_fulfillments: list[dict] = field(default_factory=list)
    order_lines: list[dict] = field(default_factory=list)
    payments: list[dict] = field(default_factory=list)
    order_status_changes: list[dict] = field(default_factory=list)


def demo_history(
    products: Sequence[dict],
    variants: Sequence[dict],
    locations: Sequence[dict],
    now: datetime,
    currency_code: str,
    seed: int = 7,
) -> DemoHistory:
    rng = random.Random(seed * 7919 + 17)
    by_category: dict[str, list[dict]] = {}
    for product in products:
        by_category.setdefault(product["category"], []).append(product)
    # A few products per category sell most, so best sellers and co-purchases stand out.
    favourites = {c: sorted(ps, key=lambda p: p["id"])[:4] for c, ps in by_category.items()}
    first_variant = {}
    for variant in variants:
        first_variant.setdefault(variant["product_id"], variant)
    titles = {p["id"]: p["title"] for p in products}
    us_stores = [loc["id"] for loc in locations if loc["kind"] == "STORE" and loc["country_code"] == "US"]
    warehouses = [loc["id"] for loc in locations if loc["kind"] == "WAREHOUSE"]
    history = DemoHistory()
    buyers = [member for member, count in BUYERS for _ in range(count)]
    rng.shuffle(buyers)
    for order_id, member in enumerate(buyers, start=1):
        at = now - timedelta(days=rng.randint(3, DAYS_BACK), minutes=rng.randint(0, 600))
        basket = BASKETS[rng.randrange(len(BASKETS))]
        picked = [rng.choice(favourites[c]) for c in basket if c in favourites]
        in_store = member == "m1" or rng.random() < 0.5
        location = 1 if member == "m1" else rng.choice(us_stores if in_store else warehouses)
        mode, status, order_status = (
            ("IN_STORE", "SOLD", "FULFILLED") if in_store else ("SHIP", "DELIVERED", "DELIVERED")
        )
        fulfillment_id = order_id
        lines = []
        for position, product in enumerate(picked):
            variant = first_variant[product["id"]]
            lines.append(
                {
                    "id": len(history.order_lines) + len(lines) + 1,
                    "order_id": order_id,
                    "fulfillment_id": fulfillment_id,
                    "variant_id": variant["id"],
                    "position": position,
                    "sku": variant["sku"],
                    "title": f"{titles[product['id']]} - {variant['title']}",
                    "quantity": 1,
                    "unit_price_minor": variant["price_minor"],
                }
            )
        total = sum(line["unit_price_minor"] for line in lines)
        channel = "STORE" if in_store else rng.choice(("WEB", "MOBILE_APP"))
        history.orders.append(
            {
                "id": order_id, "channel": channel, "status": order_status, "member_id": member,
                "cart_id": None, "currency_code": currency_code, "subtotal_minor": total,
                "total_minor": total, "payment_key": f"ord_{secrets.token_hex(16)}",
                "created_at": at, "updated_at": at + timedelta(days=2),
            }
        )  # fmt: skip
        history.order_fulfillments.append(
            {
                "id": fulfillment_id, "order_id": order_id, "location_id": location, "mode": mode,
                "status": status, "hold_expires_at": None, "created_at": at,
                "updated_at": at + timedelta(days=2), "redirected_from_id": None, "redirect_reason": None,
            }
        )  # fmt: skip
        history.order_lines.extend(lines)
        history.payments.append(
            {
                "id": order_id, "order_id": order_id, "method": "CARD",
                "provider": "till:card" if in_store else "demo", "reference": f"demo:{order_id}",
                "amount_minor": total, "refunded_minor": 0, "currency_code": currency_code,
                "status": "CAPTURED", "created_at": at,
            }
        )  # fmt: skip
        history.order_status_changes.append(
            {
                "id": order_id, "order_id": order_id, "status": order_status,
                "fulfillment_id": fulfillment_id, "fulfillment_status": status, "actor": "demo",
                "reason": None, "created_at": at + timedelta(days=2),
            }
        )  # fmt: skip
    return history


def rows_by_table(history: DemoHistory) -> list[tuple[str, list[dict[str, Any]]]]:
    """Parents first, as they are inserted."""
    return [
        ("orders", history.orders),
        ("order_fulfillments", history.order_fulfillments),
        ("order_lines", history.order_lines),
        ("payments", history.payments),
        ("order_status_changes", history.order_status_changes),
    ]
