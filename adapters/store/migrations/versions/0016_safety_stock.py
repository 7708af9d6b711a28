"""Safety stock per location and variant: units kept out of online availability (the last ones
on a store's shelf), not out of a sale at the till. On PostgreSQL the stock change notification
carries it too, so a gateway that hears of a change made elsewhere promises the same.

A fulfillment remembers where its pickup was redirected from, and why (checkout's `redirect`).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_FROM_ELSEWHERE = "coalesce(current_setting('application_name', true), '') NOT LIKE 'omnigate%'"


def _stock_function(with_safety_stock: bool) -> str:
    safety = (
        ",\n      'safety_stock', CASE WHEN TG_OP = 'DELETE' THEN 0 ELSE level.safety_stock END"
        if with_safety_stock
        else ""
    )
    return f"""
CREATE OR REPLACE FUNCTION omnigate_notify_stock() RETURNS trigger AS $$
DECLARE level inventory_levels;
BEGIN
  IF {_FROM_ELSEWHERE} THEN
    IF TG_OP = 'DELETE' THEN level := OLD; ELSE level := NEW; END IF;
    PERFORM pg_notify('omnigate_stock', json_build_object(
      'variant_id', level.variant_id, 'location_id', level.location_id,
      'on_hand', CASE WHEN TG_OP = 'DELETE' THEN 0 ELSE level.on_hand END,
      'reserved', CASE WHEN TG_OP = 'DELETE' THEN 0 ELSE level.reserved END,
      'updated_at', level.updated_at{safety})::text);
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.add_column(
        "inventory_levels",
        sa.Column("safety_stock", sa.Integer, nullable=False, server_default="0"),
    )
    op.add_column("order_fulfillments", sa.Column("redirected_from_id", sa.Integer))
    op.add_column("order_fulfillments", sa.Column("redirect_reason", sa.String(255)))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_stock_function(with_safety_stock=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_stock_function(with_safety_stock=False))
    with op.batch_alter_table("order_fulfillments") as batch:
        batch.drop_column("redirect_reason")
        batch.drop_column("redirected_from_id")
    with op.batch_alter_table("inventory_levels") as batch:
        batch.drop_column("safety_stock")
