"""Prices per channel, currency and market: markets, price lists and their prices; carts built at
a store, kept for their member across devices, and merged into another cart on sign-in.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

from adapters.store.tables import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "markets",
        sa.Column("country_code", sa.String(2), nullable=False),
        sa.Column("currency_code", sa.String(3), nullable=False),
        sa.PrimaryKeyConstraint("country_code", name="pk_markets"),
    )
    op.create_table(
        "price_lists",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("currency_code", sa.String(3), nullable=False),
        sa.Column("channel", sa.String(16)),
        sa.Column("location_id", sa.Integer),
        sa.Column("member_tier", sa.String(32)),
        sa.Column("valid_from", UtcDateTime),
        sa.Column("valid_until", UtcDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_price_lists"),
        sa.UniqueConstraint("code", name="uq_price_lists_code"),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], ondelete="CASCADE", name="fk_price_lists_location_id_locations"
        ),
    )
    op.create_table(
        "prices",
        sa.Column("price_list_id", sa.Integer, nullable=False),
        sa.Column("variant_id", sa.Integer, nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("compare_at_minor", sa.BigInteger),
        sa.PrimaryKeyConstraint("price_list_id", "variant_id", name="pk_prices"),
        sa.ForeignKeyConstraint(
            ["price_list_id"],
            ["price_lists.id"],
            ondelete="CASCADE",
            name="fk_prices_price_list_id_price_lists",
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"], ["variants.id"], ondelete="CASCADE", name="fk_prices_variant_id_variants"
        ),
        sa.CheckConstraint("amount_minor >= 0", name="ck_prices_amount_not_negative"),
    )
    op.create_index("ix_prices_variant_id", "prices", ["variant_id"])

    # Plain ids, no foreign keys: SQLite cannot add one to a table in place, and rebuilding
    # `carts` (Alembic's batch mode) would drop the old table, and with it, its cart lines.
    op.add_column("carts", sa.Column("location_id", sa.Integer))
    op.add_column("carts", sa.Column("merged_into_id", sa.Integer))
    op.add_column("carts", sa.Column("token", sa.String(64)))


def downgrade() -> None:
    for column in ("token", "merged_into_id", "location_id"):
        # SQLite 3.35+ drops a column in place (no table rebuild, which would cascade).
        op.execute(f"ALTER TABLE carts DROP COLUMN {column}")
    op.drop_index("ix_prices_variant_id", table_name="prices")
    op.drop_table("prices")
    op.drop_table("price_lists")
    op.drop_table("markets")
