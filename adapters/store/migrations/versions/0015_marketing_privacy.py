"""Marketing consent per member and channel (EMAIL, SMS, PUSH): what segments, offers and
member-level triggers respect, what a member's data export shows and erasure removes.

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


def downgrade() -> None:
    op.drop_table("marketing_consents")
