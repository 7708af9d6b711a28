"""Loading the demo retailer into an empty store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from argon2 import PasswordHasher

from adapters.store import tables
from adapters.store.demo import demo_catalog
from adapters.store.demo_history import demo_history, rows_by_table

if TYPE_CHECKING:
    from adapters.store.engine import Database

_CHUNK = 2000  # rows per executemany: keeps PostgreSQL's parameter count in bounds
_COMMERCE = (  # children first
    tables.idempotency_keys,
    tables.reservations,
    tables.return_lines,
    tables.returns,
    tables.payments,
    tables.order_status_changes,
    tables.order_lines,
    tables.order_fulfillments,
    tables.orders,
    tables.cart_lines,
    tables.carts,
)


async def seed_demo(store: Database, seed: int = 7, history: bool = False) -> None:
    """Replace the catalog, locations, stock, markets and price lists with the demo retailer, in
    one transaction; with `history`, its past orders too (adapters/store/demo_history.py).

    Carts, orders and their reservations point at the old catalog, so they go too; gift card
    balances are money owed to customers and stay.
    """
    demo = demo_catalog(seed)
    variants = [{**v, "currency_code": store.currency_code} for v in demo.variants]
    # The demo's US lists are in the shop's currency, whatever it is configured to be.
    home = {"USD": store.currency_code}
    markets = [{**m, "currency_code": home.get(m["currency_code"], m["currency_code"])} for m in demo.markets]
    price_lists = [
        {**pl, "currency_code": home.get(pl["currency_code"], pl["currency_code"])} for pl in demo.price_lists
    ]
    async with store.writing() as conn:
        for table in _COMMERCE:
            await conn.execute(sa.delete(table))
        for table in (tables.prices, tables.price_lists, tables.markets):
            await conn.execute(sa.delete(table))
        for table in (tables.inventory_adjustments, tables.inventory_levels, tables.variants):
            await conn.execute(sa.delete(table))
        await conn.execute(sa.delete(tables.products))
        await conn.execute(sa.delete(tables.locations))
        for table, rows in (
            (tables.products, demo.products),
            (tables.variants, variants),
            (tables.locations, demo.locations),
            (tables.inventory_levels, demo.inventory_levels),
            (tables.markets, markets),
            (tables.price_lists, price_lists),
            (tables.prices, demo.prices),
        ):
            for start in range(0, len(rows), _CHUNK):
                await conn.execute(sa.insert(table), rows[start : start + _CHUNK])
        if conn.dialect.name == "postgresql":
            # Rows came with explicit ids: move the sequences past them.
            for table in (tables.products, tables.variants, tables.locations, tables.price_lists):
                await conn.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 1) FROM {table.name}))"
                    )
                )
        await conn.execute(sa.delete(tables.members).where(tables.members.c.id.in_(DEMO_MEMBER_IDS)))
        await conn.execute(sa.insert(tables.members), demo_members())
        if history:
            await _seed_history(conn, demo, store.currency_code, seed)


async def _seed_history(conn: Any, demo: Any, currency_code: str, seed: int) -> None:
    past = demo_history(demo.products, demo.variants, demo.locations, datetime.now(UTC), currency_code, seed)
    await conn.execute(
        sa.delete(tables.loyalty_entries).where(tables.loyalty_entries.c.member_id.in_(DEMO_MEMBER_IDS))
    )
    for name, rows in rows_by_table(past):
        if rows:
            await conn.execute(sa.insert(tables.metadata.tables[name]), rows)
            if conn.dialect.name == "postgresql":
                await conn.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"
                    )
                )


# Members who sign in with `memberLogin` (password DEMO_PASSWORD); m1 prefers the first store.
DEMO_PASSWORD = "omnigate-demo"
_DEMO_MEMBERS = (
    ("m1", "ana@example.com", "Ana", "Silva", 1),
    ("m2", "ben@example.com", "Ben", "Okafor", None),
    ("m3", "chloe@example.com", "Chloe", "Martin", None),
)
DEMO_MEMBER_IDS = [m[0] for m in _DEMO_MEMBERS]


def demo_members() -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    hasher = PasswordHasher()
    return [
        {
            "id": key, "email": email, "first_name": first, "last_name": last, "phone": None,
            "addresses": [], "preferred_location_id": store, "marketing_consent": False,
            "password_hash": hasher.hash(DEMO_PASSWORD), "created_at": now, "updated_at": now,
        }
        for key, email, first, last, store in _DEMO_MEMBERS
    ]  # fmt: skip
