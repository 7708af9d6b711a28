"""Loyalty: the ledger of every member's points (one entry per order event).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from adapters.store.tables import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "loyalty_entries",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("points", sa.Integer, nullable=False),
        sa.Column("spend_minor", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("order_id", sa.Integer),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_loyalty_entries"),
        sa.UniqueConstraint("key", name="uq_loyalty_entries_key"),
    )
    op.create_index("ix_loyalty_entries_member_id_id", "loyalty_entries", ["member_id", "id"])


def downgrade() -> None:
    op.drop_table("loyalty_entries")
