"""Fulfillments by location and status: `locationOrders` (a store tablet's pickup queue) lists a
location's fulfillments in some statuses.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from alembic import op

revision = "0018"
# 0014 (analytics, support, audit) is on this branch; with it merged first, this follows it.
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_order_fulfillments_location_id_status", "order_fulfillments", ["location_id", "status"]
    )


def downgrade() -> None:
    op.drop_index("ix_order_fulfillments_location_id_status", table_name="order_fulfillments")
