"""Marketing (issue 18): consent per member and channel (EMAIL, SMS, PUSH), what segments,
offers and member-level triggers respect, what a member's data export shows and erasure
removes; segments, rules over the unified profile; offers, and the discount an offer took off
an order line.

Revision ID: 0015
Revises: 0011
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from adapters.store.tables import UtcDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "marketing_consents",
        sa.Column("member_key", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("granted", sa.Boolean, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("member_key", "channel", name="pk_marketing_consents"),
    )
    op.create_table(
        "segments",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("rules", sa.JSON, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_segments"),
        sa.UniqueConstraint("code", name="uq_segments_code"),
    )

    op.create_table(
        "offers",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("percent_off", sa.Integer, nullable=False),
        sa.Column("segment_id", sa.Integer),
        sa.Column("channels", sa.JSON, nullable=False),
        sa.Column("location_ids", sa.JSON, nullable=False),
        sa.Column("near_latitude", sa.Float),
        sa.Column("near_longitude", sa.Float),
        sa.Column("radius_km", sa.Float),
        sa.Column("valid_from", UtcDateTime),
        sa.Column("valid_until", UtcDateTime),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_offers"),
        sa.UniqueConstraint("code", name="uq_offers_code"),
        sa.CheckConstraint("percent_off > 0 AND percent_off <= 100", name="ck_offers_percent_off_range"),
    )
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("event_types", sa.JSON, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_endpoints"),
    )
    op.create_table(
        "stock_watches",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("member_key", sa.String(64), nullable=False),
        sa.Column("variant_id", sa.Integer, nullable=False),
        sa.Column("location_id", sa.Integer, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("notified_at", UtcDateTime),
        sa.PrimaryKeyConstraint("id", name="pk_stock_watches"),
        sa.ForeignKeyConstraint(
            ["variant_id"], ["variants.id"], ondelete="CASCADE", name="fk_stock_watches_variant_id_variants"
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            ondelete="CASCADE",
            name="fk_stock_watches_location_id_locations",
        ),
        sa.UniqueConstraint(
            "member_key", "variant_id", "location_id", name="uq_stock_watches_member_variant_location"
        ),
    )
    op.create_index("ix_stock_watches_member_key", "stock_watches", ["member_key"])
    op.create_table(
        "trigger_marks",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("value", sa.String(64)),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_trigger_marks"),
    )
    op.add_column(
        "order_lines", sa.Column("discount_minor", sa.BigInteger, nullable=False, server_default="0")
    )
    op.add_column("order_lines", sa.Column("offer_code", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("order_lines") as batch:
        batch.drop_column("offer_code")
        batch.drop_column("discount_minor")
    op.drop_table("trigger_marks")
    op.drop_table("stock_watches")
    op.drop_table("webhook_endpoints")
    op.drop_table("offers")
    op.drop_table("segments")
    op.drop_table("marketing_consents")
