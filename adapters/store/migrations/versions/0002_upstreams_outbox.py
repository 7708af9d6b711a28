"""Upstream key mapping, sync watermarks and the outbox.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from adapters.store.tables import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upstream_keys",
        sa.Column("upstream", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("external_key", sa.String(128), nullable=False),
        sa.Column("local_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("upstream", "kind", "external_key", name="pk_upstream_keys"),
    )
    op.create_index("ix_upstream_keys_kind_local_id", "upstream_keys", ["kind", "local_id"])

    op.create_table(
        "sync_state",
        sa.Column("upstream", sa.String(32), nullable=False),
        sa.Column("feed", sa.String(16), nullable=False),
        sa.Column("watermark", sa.String(64)),
        sa.Column("synced_at", UtcDateTime),
        sa.PrimaryKeyConstraint("upstream", "feed", name="pk_sync_state"),
    )

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("topic", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("available_at", UtcDateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("delivered_at", UtcDateTime),
        sa.Column("result", sa.JSON),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )
    op.create_index("ix_outbox_pending", "outbox", ["delivered_at", "available_at"])


def downgrade() -> None:
    for table in ("outbox", "sync_state", "upstream_keys"):
        op.drop_table(table)
