"""Members: the gateway's own member directory (profile, addresses, password hash).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from adapters.store.tables import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "members",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("first_name", sa.String(120), nullable=False),
        sa.Column("last_name", sa.String(120), nullable=False),
        sa.Column("phone", sa.String(40)),
        sa.Column("addresses", sa.JSON, nullable=False),
        sa.Column("preferred_location_id", sa.Integer),
        sa.Column("marketing_consent", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("password_hash", sa.String(255)),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_members"),
        sa.UniqueConstraint("email", name="uq_members_email"),
        sa.ForeignKeyConstraint(
            ["preferred_location_id"],
            ["locations.id"],
            ondelete="SET NULL",
            name="fk_members_preferred_location_id_locations",
        ),
    )


def downgrade() -> None:
    op.drop_table("members")
