"""Marketing (issue 18): consent per member and channel (EMAIL, SMS, PUSH), what segments,
offers and member-level triggers respect, what a member's data export shows and erasure
removes; segments, rules over the unified profile.

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


def downgrade() -> None:
    op.drop_table("segments")
    op.drop_table("marketing_consents")
