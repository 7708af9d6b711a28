"""Table definitions: the single source that Alembic migrations are checked against."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps stored as UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


MAX_KEY = 2**31 - 1  # primary keys are 32-bit integers on every backend


def keys_in_range(keys: Any) -> list[int]:
    """Ids no row can have are dropped before they reach SQL (PostgreSQL would refuse them)."""
    return [k for k in keys if 0 <= k <= MAX_KEY]


metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

products = sa.Table(
    "products",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("handle", sa.String(255), nullable=False, unique=True),
    sa.Column("title", sa.String(255), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("vendor", sa.String(255), nullable=False),
    sa.Column("category", sa.String(120), nullable=False, index=True),
    sa.Column("tags", sa.JSON, nullable=False),
    sa.Column("images", sa.JSON, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Index("ix_products_title_id", "title", "id"),
    sa.Index("ix_products_created_at_id", "created_at", "id"),
)

variants = sa.Table(
    "variants",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("product_id", sa.ForeignKey("products.id", ondelete="CASCADE"), nullable=False),
    sa.Column("sku", sa.String(64), nullable=False, unique=True),
    sa.Column("title", sa.String(255), nullable=False),
    sa.Column("options", sa.JSON, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    # Money in minor units: exact on every database, no float or driver-specific decimal.
    sa.Column("price_minor", sa.BigInteger, nullable=False),
    sa.Column("compare_at_minor", sa.BigInteger),
    sa.Column("currency_code", sa.String(3), nullable=False),
    sa.Index("ix_variants_product_id_position", "product_id", "position"),
)

locations = sa.Table(
    "locations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(32), nullable=False, unique=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("address1", sa.String(255), nullable=False),
    sa.Column("address2", sa.String(255)),
    sa.Column("city", sa.String(120), nullable=False),
    sa.Column("province", sa.String(120)),
    sa.Column("province_code", sa.String(8)),
    sa.Column("zip", sa.String(20)),
    sa.Column("country", sa.String(120), nullable=False),
    sa.Column("country_code", sa.String(2), nullable=False),
    sa.Column("phone", sa.String(40)),
    sa.Column("latitude", sa.Float, nullable=False),
    sa.Column("longitude", sa.Float, nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("pickup_enabled", sa.Boolean, nullable=False),
    sa.Column("ship_from_store_enabled", sa.Boolean, nullable=False),
    sa.Column("opening_hours", sa.JSON, nullable=False),
)

inventory_levels = sa.Table(
    "inventory_levels",
    metadata,
    sa.Column("variant_id", sa.ForeignKey("variants.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("location_id", sa.ForeignKey("locations.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("on_hand", sa.Integer, nullable=False),
    sa.Column("reserved", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
    sa.CheckConstraint("reserved >= 0", name="reserved_not_negative"),
    sa.Index("ix_inventory_levels_location_id", "location_id"),
)

inventory_adjustments = sa.Table(
    "inventory_adjustments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("variant_id", sa.ForeignKey("variants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("location_id", sa.ForeignKey("locations.id", ondelete="CASCADE"), nullable=False),
    sa.Column("delta", sa.Integer, nullable=False),
    sa.Column("on_hand_after", sa.Integer, nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("reference", sa.String(255)),
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Index("ix_inventory_adjustments_variant_location", "variant_id", "location_id"),
)

# Which local row an upstream's record became: the read model's join to the systems of record.
upstream_keys = sa.Table(
    "upstream_keys",
    metadata,
    sa.Column("upstream", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),  # product, variant, location
    sa.Column("external_key", sa.String(128), primary_key=True),
    sa.Column("local_id", sa.Integer, nullable=False),
    sa.Index("ix_upstream_keys_kind_local_id", "kind", "local_id"),
)

# Where each feed of each upstream stands: its watermark and when it last succeeded.
sync_state = sa.Table(
    "sync_state",
    metadata,
    sa.Column("upstream", sa.String(32), primary_key=True),
    sa.Column("feed", sa.String(16), primary_key=True),  # catalog, stock
    sa.Column("watermark", sa.String(64)),
    sa.Column("synced_at", UtcDateTime),
)

# Messages to upstreams, written in the same transaction as the change that causes them.
outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("topic", sa.String(64), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("available_at", UtcDateTime, nullable=False),  # not before: backoff and leases
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
    sa.Column("delivered_at", UtcDateTime),
    sa.Column("result", sa.JSON),
    sa.Index("ix_outbox_pending", "delivered_at", "available_at"),
)
