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
down_revision = "0011"
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
    op.add_column(
        "order_lines", sa.Column("discount_minor", sa.BigInteger, nullable=False, server_default="0")
    )
    op.add_column("order_lines", sa.Column("offer_code", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("order_lines") as batch:
        batch.drop_column("offer_code")
        batch.drop_column("discount_minor")
    op.drop_table("offers")
    op.drop_table("segments")
    op.drop_table("marketing_consents")
