"""Analytics, support and audit: indexes the analytics aggregates scan by, the audit log of staff
reads of members' personal data, members' sign-ins by channel, and support conversations with
their messages.

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from adapters.store.tables import UtcDateTime

revision = "0014"
down_revision = "0011"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_orders_created_at", "orders", ["created_at"]),
    ("ix_order_fulfillments_location_id", "order_fulfillments", ["location_id"]),
    ("ix_order_lines_variant_id", "order_lines", ["variant_id"]),
    ("ix_returns_created_at", "returns", ["created_at"]),
    ("ix_loyalty_entries_created_at", "loyalty_entries", ["created_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("fields", sa.JSON, nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_member_id_id", "audit_log", ["member_id", "id"])
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_table(
        "member_sign_ins",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_member_sign_ins"),
    )
    op.create_index("ix_member_sign_ins_member_id_id", "member_sign_ins", ["member_id", "id"])
    op.create_table(
        "support_tickets",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("opened_by", sa.String(255), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_support_tickets"),
    )
    op.create_index("ix_support_tickets_member_id_id", "support_tickets", ["member_id", "id"])
    op.create_table(
        "support_messages",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("ticket_id", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_support_messages"),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["support_tickets.id"],
            ondelete="CASCADE",
            name="fk_support_messages_ticket_id_support_tickets",
        ),
    )
    op.create_index("ix_support_messages_ticket_id", "support_messages", ["ticket_id"])


def downgrade() -> None:
    op.drop_table("support_messages")
    op.drop_table("support_tickets")
    op.drop_table("member_sign_ins")
    op.drop_table("audit_log")
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
