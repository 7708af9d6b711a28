"""The Alembic migrations build exactly the tables the code declares, on every backend, and
upgrade a database that already holds a shop's data without losing any of it."""

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from adapters.store import open_store, tables
from adapters.store.carts import token_hash
from adapters.store.tables import metadata
from schema.ids import to_global_id
from tests.commerce import LEVEL
from tests.conftest import BACKENDS, make_settings, serving


async def test_migrated_schema_matches_the_table_definitions(api):
    def diff(sync_conn):
        context = MigrationContext.configure(sync_conn)
        return compare_metadata(context, metadata)

    async with api.store.engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


async def test_migrating_twice_is_harmless(api):
    await api.store.migrate()
    data = await api.data("{ products(first: 1) { nodes { id } } }")
    assert len(data["products"]["nodes"]) == 1


# --- Upgrading a database that holds a shop's data -----------------------------------------------

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=30)
CART_TOKEN = "A" * 43
ADDRESS = {"address1": "2 Pine St", "address2": None, "city": "Seattle", "province": "Washington",
           "province_code": "WA", "zip": "98101", "country": "United States", "country_code": "US",
           "phone": None}  # fmt: skip
ROWS: list[tuple[sa.Table, list[dict[str, Any]]]] = [
    (tables.locations, [{
        "id": 1, "code": "SEA-PIKE", "name": "Seattle Pike", "kind": "STORE", "address1": "1 Pike St",
        "city": "Seattle", "country": "United States", "country_code": "US", "latitude": 47.61,
        "longitude": -122.34, "timezone": "America/Los_Angeles", "pickup_enabled": True,
        "ship_from_store_enabled": True, "opening_hours": [{"day": 1, "opens": "09:00", "closes": "21:00"}],
    }]),
    (tables.products, [{
        "id": 1, "handle": "trail-jacket", "title": "Trail Jacket", "description": "Waterproof, packable.",
        "vendor": "Cascade", "category": "Jackets", "tags": ["rain", "hiking"], "images": [],
        "created_at": NOW, "updated_at": NOW,
    }]),
    (tables.variants, [
        {"id": v, "product_id": 1, "sku": f"TJ-{size}", "title": size,
         "options": [{"name": "Size", "value": size}], "position": v, "price_minor": 14900,
         "compare_at_minor": None, "currency_code": "USD"}
        for v, size in [(1, "M"), (2, "L")]
    ]),
    (tables.inventory_levels, [
        {"variant_id": 1, "location_id": 1, "on_hand": 10, "reserved": 2, "updated_at": NOW},
        {"variant_id": 2, "location_id": 1, "on_hand": 4, "reserved": 1, "updated_at": NOW},
    ]),
    (tables.members, [{
        "id": "m1", "email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace",
        "phone": "+1 206 555 0100", "addresses": [ADDRESS],
        "preferred_location_id": 1, "marketing_consent": True, "password_hash": None,
        "created_at": NOW, "updated_at": NOW,
    }]),
    (tables.carts, [{
        "id": 1, "token_hash": token_hash(CART_TOKEN), "channel": "WEB", "member_id": "m1",
        "currency_code": "USD", "status": "OPEN", "created_at": NOW, "updated_at": NOW, "expires_at": LATER,
    }]),
    (tables.cart_lines, [{
        "id": 1, "cart_id": 1, "variant_id": 2, "quantity": 1, "mode": "PICKUP", "location_id": 1,
        "created_at": NOW, "updated_at": NOW,
    }]),
    (tables.orders, [{
        "id": 1, "channel": "MOBILE_APP", "status": "ALLOCATED", "member_id": "m1", "cart_id": None,
        "currency_code": "USD", "subtotal_minor": 29800, "total_minor": 29800, "payment_key": "ord_old_1",
        "created_at": NOW, "updated_at": NOW,
    }]),
    (tables.order_fulfillments, [{
        "id": 1, "order_id": 1, "location_id": 1, "mode": "PICKUP", "status": "ALLOCATED",
        "hold_expires_at": None, "created_at": NOW, "updated_at": NOW,
    }]),
    (tables.order_lines, [{
        "id": 1, "order_id": 1, "fulfillment_id": 1, "variant_id": 1, "position": 0, "sku": "TJ-M",
        "title": "Trail Jacket - M", "quantity": 2, "unit_price_minor": 14900,
    }]),
    (tables.reservations, [
        {"id": 1, "variant_id": 1, "location_id": 1, "quantity": 2, "cart_line_id": None, "order_line_id": 1,
         "expires_at": None, "created_at": NOW},
        {"id": 2, "variant_id": 2, "location_id": 1, "quantity": 1, "cart_line_id": 1, "order_line_id": None,
         "expires_at": LATER, "created_at": NOW},
    ]),
    (tables.order_status_changes, [
        {"id": 1, "order_id": 1, "status": "PLACED", "fulfillment_id": None, "fulfillment_status": None,
         "actor": "member:m1", "reason": None, "created_at": NOW},
    ]),
    (tables.payments, [{
        "id": 1, "order_id": 1, "method": "CARD", "provider": "test", "reference": "test_ch_old",
        "amount_minor": 29800, "refunded_minor": 0, "currency_code": "USD", "status": "CAPTURED",
        "created_at": NOW,
    }]),
    (tables.idempotency_keys, [{
        "scope": "cart:9", "key": "checkout-1", "fingerprint": "f" * 64, "status": "COMPLETED",
        "order_id": 1, "error_code": None, "error_message": None, "created_at": NOW,
    }]),
    (tables.loyalty_entries, [{
        "id": 1, "member_id": "m1", "key": "order:1:earn", "kind": "EARN", "points": 298,
        "spend_minor": 29800, "order_id": 1, "created_at": NOW,
    }]),
]  # fmt: skip
SINCE_ORDERS = "0003"  # the first revision with carts and orders to seed


def _revisions_before_head() -> list[str]:
    script = ScriptDirectory.from_config(_alembic_config())
    found = [r.revision for r in script.walk_revisions() if r.revision != script.get_current_head()]
    return sorted(r for r in found if r >= SINCE_ORDERS)


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(tables.__file__).parent / "migrations"))
    return config


@pytest_asyncio.fixture(params=BACKENDS)
async def empty_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    templates = request.getfixturevalue("postgresql_templates")
    name = f"omnigate_m_{uuid.uuid4().hex[:12]}"
    await templates._admin(f'CREATE DATABASE "{name}"')
    templates.created.append(name)
    return templates._url(name)


def _columns(sync_conn: Any) -> dict[str, set[str]]:
    inspector = sa.inspect(sync_conn)
    return {t: {c["name"] for c in inspector.get_columns(t)} for t in inspector.get_table_names()}


async def _seed_at(store, revision: str) -> dict[str, list[dict[str, Any]]]:
    """The shop's rows, written with the columns the schema has at `revision`."""
    await store.migrate(revision)
    seeded: dict[str, list[dict[str, Any]]] = {}
    async with store.writing() as conn:
        columns = await conn.run_sync(_columns)
        for table, rows in ROWS:
            if table.name not in columns:
                continue  # the table comes with a later revision
            kept = [{k: v for k, v in row.items() if k in columns[table.name]} for row in rows]
            await conn.execute(sa.insert(table), kept)
            seeded[table.name] = kept
        if store.dialect == "postgresql":  # explicit ids: move the sequences past them
            for table, _rows in ROWS:
                if table.name in seeded and "id" in table.c and isinstance(table.c.id.type, sa.Integer):
                    sequence = f"pg_get_serial_sequence('{table.name}', 'id')"
                    await conn.execute(sa.text(f"SELECT setval({sequence}, 100)"))
    return seeded


@pytest.mark.dates
@pytest.mark.parametrize("revision", _revisions_before_head())
async def test_upgrading_a_database_with_orders_carts_members_and_points_keeps_them(empty_url, revision):
    store = open_store(empty_url)
    try:
        seeded = await _seed_at(store, revision)
        assert {"orders", "carts", "payments", "reservations"} <= seeded.keys()
        await store.migrate()  # to head, as a gateway does at start
        async with store.reading() as conn:
            for table, _rows in ROWS:
                key = list(table.primary_key.columns)
                for row in seeded.get(table.name, []):
                    found = (
                        (await conn.execute(sa.select(table).where(*(c == row[c.name] for c in key))))
                        .one()
                        ._asdict()
                    )
                    assert {k: found[k] for k in row} == row, table.name
    finally:
        await store.close()

    # The gateway at head reads them: the member's history, the open cart with its hold.
    async with serving(make_settings(empty_url, member_tokens=[{"token": "t-m1", "member_id": "m1"}])) as api:
        api.start_clock_at(NOW + timedelta(hours=1))  # the cart's hold and expiry are still ahead
        member = {"Authorization": "Bearer t-m1"}
        order = (await api.data(ORDER_QUERY, {"id": to_global_id("Order", 1)}, **member))["order"]
        assert (order["status"], order["total"]["amount"], len(order["lines"])) == ("ALLOCATED", "298.00", 1)
        assert order["payments"] == [{"method": "CARD", "status": "CAPTURED"}]
        if "members" in seeded:  # the directory came with 0004
            me = (await api.data(ME, **member))["me"]
            assert me["email"] == "ada@example.com"
            assert me["orders"]["nodes"] == [order]
            assert me["loyalty"]["points"] == (298 if "loyalty_entries" in seeded else 0)
        cart = (await api.data(CART_QUERY, {"id": to_global_id("Cart", CART_TOKEN)}, **member))["cart"]
        assert [(ln["quantity"], ln["held"]) for ln in cart["lines"]] == [(1, 1)]
        level = (await api.data(LEVEL, {"variant": to_global_id("ProductVariant", 1),
                                        "location": to_global_id("Location", 1)}))  # fmt: skip
        assert level["node"]["inventory"] == [{"onHand": 10, "reserved": 2, "available": 8}]
        product = await api.data('{ product(handle: "trail-jacket") { title } }')
        assert product["product"]["title"] == "Trail Jacket"


ORDER_FIELDS = "status total { amount } lines { sku } payments { method status }"
ORDER_QUERY = f"query ($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}"
ME = f"{{ me {{ email loyalty {{ points }} orders(first: 5) {{ nodes {{ {ORDER_FIELDS} }} }} }} }}"
CART_QUERY = "query ($id: ID!) { cart(id: $id) { lines { quantity held } } }"
