"""Catalog, locations and inventory by location.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from adapters.store.tables import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("handle", sa.String(255), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("vendor", sa.String(255), nullable=False),
        sa.Column("category", sa.String(120), nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("images", sa.JSON, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_products"),
        sa.UniqueConstraint("handle", name="uq_products_handle"),
    )
    op.create_index("ix_products_category", "products", ["category"])
    op.create_index("ix_products_title_id", "products", ["title", "id"])
    op.create_index("ix_products_created_at_id", "products", ["created_at", "id"])

    op.create_table(
        "variants",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("product_id", sa.Integer, nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("price_minor", sa.BigInteger, nullable=False),
        sa.Column("compare_at_minor", sa.BigInteger),
        sa.Column("currency_code", sa.String(3), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_variants"),
        sa.UniqueConstraint("sku", name="uq_variants_sku"),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            ondelete="CASCADE",
            name="fk_variants_product_id_products",
        ),
    )
    op.create_index("ix_variants_product_id_position", "variants", ["product_id", "position"])

    op.create_table(
        "locations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(32), nullable=False),
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
        sa.PrimaryKeyConstraint("id", name="pk_locations"),
        sa.UniqueConstraint("code", name="uq_locations_code"),
    )

    op.create_table(
        "inventory_levels",
        sa.Column("variant_id", sa.Integer, nullable=False),
        sa.Column("location_id", sa.Integer, nullable=False),
        sa.Column("on_hand", sa.Integer, nullable=False),
        sa.Column("reserved", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("variant_id", "location_id", name="pk_inventory_levels"),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["variants.id"],
            ondelete="CASCADE",
            name="fk_inventory_levels_variant_id_variants",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            ondelete="CASCADE",
            name="fk_inventory_levels_location_id_locations",
        ),
        sa.CheckConstraint("on_hand >= 0", name="ck_inventory_levels_on_hand_not_negative"),
        sa.CheckConstraint("reserved >= 0", name="ck_inventory_levels_reserved_not_negative"),
    )
    op.create_index("ix_inventory_levels_location_id", "inventory_levels", ["location_id"])

    op.create_table(
        "inventory_adjustments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("variant_id", sa.Integer, nullable=False),
        sa.Column("location_id", sa.Integer, nullable=False),
        sa.Column("delta", sa.Integer, nullable=False),
        sa.Column("on_hand_after", sa.Integer, nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("reference", sa.String(255)),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_inventory_adjustments"),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["variants.id"],
            ondelete="CASCADE",
            name="fk_inventory_adjustments_variant_id_variants",
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            ondelete="CASCADE",
            name="fk_inventory_adjustments_location_id_locations",
        ),
    )
    op.create_index(
        "ix_inventory_adjustments_variant_location",
        "inventory_adjustments",
        ["variant_id", "location_id"],
    )


def downgrade() -> None:
    for table in ("inventory_adjustments", "inventory_levels", "locations", "variants", "products"):
        op.drop_table(table)
