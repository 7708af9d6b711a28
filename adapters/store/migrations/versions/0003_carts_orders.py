"""Carts, orders, stock reservations, payments, returns, idempotency keys and gift cards.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from adapters.store.tables import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, referred: str, ondelete: str | None = None) -> sa.Constraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{referred}.id"], ondelete=ondelete, name=f"fk_{table}_{column}_{referred}"
    )


def _positive(table: str) -> sa.Constraint:
    return sa.CheckConstraint("quantity > 0", name=f"ck_{table}_quantity_positive")


def upgrade() -> None:
    op.create_table(
        "carts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("member_id", sa.String(64)),
        sa.Column("currency_code", sa.String(3), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_carts"),
        sa.UniqueConstraint("token_hash", name="uq_carts_token_hash"),
    )
    op.create_index("ix_carts_expires_at", "carts", ["expires_at"])
    op.create_index("ix_carts_member_id", "carts", ["member_id"])

    op.create_table(
        "cart_lines",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("cart_id", sa.Integer, nullable=False),
        sa.Column("variant_id", sa.Integer, nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("location_id", sa.Integer),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cart_lines"),
        _fk("cart_lines", "cart_id", "carts", "CASCADE"),
        _fk("cart_lines", "variant_id", "variants", "CASCADE"),
        _fk("cart_lines", "location_id", "locations", "CASCADE"),
        _positive("cart_lines"),
    )
    op.create_index("ix_cart_lines_cart_id", "cart_lines", ["cart_id"])

    op.create_table(
        "orders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("member_id", sa.String(64)),
        sa.Column("cart_id", sa.Integer),
        sa.Column("currency_code", sa.String(3), nullable=False),
        sa.Column("subtotal_minor", sa.BigInteger, nullable=False),
        sa.Column("total_minor", sa.BigInteger, nullable=False),
        sa.Column("payment_key", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
        sa.UniqueConstraint("payment_key", name="uq_orders_payment_key"),
        _fk("orders", "cart_id", "carts", "SET NULL"),
    )
    op.create_index("ix_orders_cart_id", "orders", ["cart_id"])
    op.create_index("ix_orders_member_id_id", "orders", ["member_id", "id"])
    op.create_index("ix_orders_status_created_at", "orders", ["status", "created_at"])

    op.create_table(
        "order_fulfillments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("order_id", sa.Integer, nullable=False),
        sa.Column("location_id", sa.Integer, nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("hold_expires_at", UtcDateTime),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_order_fulfillments"),
        _fk("order_fulfillments", "order_id", "orders", "CASCADE"),
        _fk("order_fulfillments", "location_id", "locations"),
    )
    op.create_index("ix_order_fulfillments_order_id", "order_fulfillments", ["order_id"])
    op.create_index(
        "ix_order_fulfillments_status_hold_expires_at",
        "order_fulfillments",
        ["status", "hold_expires_at"],
    )

    op.create_table(
        "order_lines",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("order_id", sa.Integer, nullable=False),
        sa.Column("fulfillment_id", sa.Integer, nullable=False),
        sa.Column("variant_id", sa.Integer, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("title", sa.String(512), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_order_lines"),
        _fk("order_lines", "order_id", "orders", "CASCADE"),
        _fk("order_lines", "fulfillment_id", "order_fulfillments", "CASCADE"),
        _fk("order_lines", "variant_id", "variants"),
        _positive("order_lines"),
    )
    op.create_index("ix_order_lines_order_id", "order_lines", ["order_id"])
    op.create_index("ix_order_lines_fulfillment_id", "order_lines", ["fulfillment_id"])

    op.create_table(
        "reservations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("variant_id", sa.Integer, nullable=False),
        sa.Column("location_id", sa.Integer, nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("cart_line_id", sa.Integer),
        sa.Column("order_line_id", sa.Integer),
        sa.Column("expires_at", UtcDateTime),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_reservations"),
        _fk("reservations", "cart_line_id", "cart_lines", "SET NULL"),
        _fk("reservations", "order_line_id", "order_lines"),
        sa.ForeignKeyConstraint(
            ["variant_id", "location_id"],
            ["inventory_levels.variant_id", "inventory_levels.location_id"],
            ondelete="CASCADE",
            name="fk_reservations_level_inventory_levels",
        ),
        _positive("reservations"),
    )
    op.create_index("ix_reservations_cart_line_id", "reservations", ["cart_line_id"])
    op.create_index("ix_reservations_order_line_id", "reservations", ["order_line_id"])
    op.create_index("ix_reservations_expires_at", "reservations", ["expires_at"])
    op.create_index("ix_reservations_variant_location", "reservations", ["variant_id", "location_id"])

    op.create_table(
        "order_status_changes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("order_id", sa.Integer, nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("fulfillment_id", sa.Integer),
        sa.Column("fulfillment_status", sa.String(24)),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("reason", sa.String(500)),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_order_status_changes"),
        _fk("order_status_changes", "order_id", "orders", "CASCADE"),
        _fk("order_status_changes", "fulfillment_id", "order_fulfillments", "CASCADE"),
    )
    op.create_index("ix_order_status_changes_order_id", "order_status_changes", ["order_id"])

    op.create_table(
        "payments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("order_id", sa.Integer, nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("reference", sa.String(255)),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("refunded_minor", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("currency_code", sa.String(3), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_payments"),
        _fk("payments", "order_id", "orders", "CASCADE"),
        sa.CheckConstraint("refunded_minor <= amount_minor", name="ck_payments_refund_within_amount"),
    )
    op.create_index("ix_payments_order_id", "payments", ["order_id"])

    op.create_table(
        "returns",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("order_id", sa.Integer, nullable=False),
        sa.Column("location_id", sa.Integer, nullable=False),
        sa.Column("reason", sa.String(500)),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("refund_minor", sa.BigInteger, nullable=False),
        sa.Column("refund_status", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_returns"),
        _fk("returns", "order_id", "orders", "CASCADE"),
        _fk("returns", "location_id", "locations"),
    )
    op.create_index("ix_returns_order_id", "returns", ["order_id"])

    op.create_table(
        "return_lines",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("return_id", sa.Integer, nullable=False),
        sa.Column("order_line_id", sa.Integer, nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("exchange_variant_id", sa.Integer),
        sa.PrimaryKeyConstraint("id", name="pk_return_lines"),
        _fk("return_lines", "return_id", "returns", "CASCADE"),
        _fk("return_lines", "order_line_id", "order_lines", "CASCADE"),
        sa.ForeignKeyConstraint(
            ["exchange_variant_id"],
            ["variants.id"],
            name="fk_return_lines_exchange_variant_id_variants",
        ),
        _positive("return_lines"),
    )
    op.create_index("ix_return_lines_return_id", "return_lines", ["return_id"])
    op.create_index("ix_return_lines_order_line_id", "return_lines", ["order_line_id"])

    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(64), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("order_id", sa.Integer),
        sa.Column("error_code", sa.String(40)),
        sa.Column("error_message", sa.String(500)),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name="pk_idempotency_keys"),
        _fk("idempotency_keys", "order_id", "orders", "SET NULL"),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])

    op.create_table(
        "gift_cards",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("last4", sa.String(4), nullable=False),
        sa.Column("balance_minor", sa.BigInteger, nullable=False),
        sa.Column("currency_code", sa.String(3), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_gift_cards"),
        sa.UniqueConstraint("code_hash", name="uq_gift_cards_code_hash"),
        sa.CheckConstraint("balance_minor >= 0", name="ck_gift_cards_balance_not_negative"),
    )

    op.create_table(
        "gift_card_transactions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("gift_card_id", sa.Integer, nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("balance_after_minor", sa.BigInteger, nullable=False),
        sa.Column("idempotency_key", sa.String(300), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_gift_card_transactions"),
        _fk("gift_card_transactions", "gift_card_id", "gift_cards", "CASCADE"),
        sa.UniqueConstraint("idempotency_key", name="uq_gift_card_transactions_idempotency_key"),
    )
    op.create_index("ix_gift_card_transactions_gift_card_id", "gift_card_transactions", ["gift_card_id"])


def downgrade() -> None:
    for table in (
        "gift_card_transactions",
        "gift_cards",
        "idempotency_keys",
        "return_lines",
        "returns",
        "payments",
        "order_status_changes",
        "reservations",
        "order_lines",
        "order_fulfillments",
        "orders",
        "cart_lines",
        "carts",
    ):
        op.drop_table(table)
