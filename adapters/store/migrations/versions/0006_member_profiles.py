"""Member profiles: the fields a CRM behind the member directory has no place for, kept by the
gateway under the CRM's member key (marketing consent, preferred store).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from adapters.store.tables import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "member_profiles",
        sa.Column("member_key", sa.String(64), nullable=False),
        sa.Column("phone", sa.String(40)),
        sa.Column("preferred_location_id", sa.Integer),
        sa.Column("marketing_consent", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("member_key", name="pk_member_profiles"),
        sa.ForeignKeyConstraint(
            ["preferred_location_id"],
            ["locations.id"],
            ondelete="SET NULL",
            name="fk_member_profiles_preferred_location_id_locations",
        ),
    )


def downgrade() -> None:
    op.drop_table("member_profiles")
