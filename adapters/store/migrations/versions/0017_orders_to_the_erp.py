"""Orders on their way to the ERP: who bought (email, name, shipping address) so that the
order message can be written, the ERP's number and state as they come back, and dead letters
in the outbox (a message that failed too often waits for staff instead of being retried),
and who is finishing a checkout stuck in PENDING_PAYMENT (the sweeper or the client's retry:
one at a time, before either contacts the payment provider), and variants the ERP no longer
sells (withdrawn: no stock shown, nothing sold).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from adapters.store.tables import UtcDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("email", sa.String(320)))
        batch.add_column(sa.Column("buyer", sa.JSON))  # first/last name, phone
        batch.add_column(sa.Column("shipping_address", sa.JSON))
        batch.add_column(sa.Column("erp_reference", sa.String(64)))
        batch.add_column(sa.Column("erp_state", sa.String(16)))
        batch.add_column(sa.Column("claimed_by", sa.String(64)))
        batch.add_column(sa.Column("claimed_until", UtcDateTime))
    with op.batch_alter_table("variants") as batch:
        batch.add_column(sa.Column("withdrawn_at", UtcDateTime))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("dead_at", UtcDateTime))
        batch.add_column(sa.Column("order_id", sa.Integer))
    op.create_index("ix_outbox_order_id", "outbox", ["order_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_order_id", "outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("order_id")
        batch.drop_column("dead_at")
    with op.batch_alter_table("variants") as batch:
        batch.drop_column("withdrawn_at")
    with op.batch_alter_table("orders") as batch:
        for name in (
            "claimed_until",
            "claimed_by",
            "erp_state",
            "erp_reference",
            "shipping_address",
            "buyer",
            "email",
        ):
            batch.drop_column(name)
