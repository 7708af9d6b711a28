"""Table definitions: the single source that Alembic migrations are checked against."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps stored as UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


MAX_KEY = 2**31 - 1  # primary keys are 32-bit integers on every backend
MAX_QUANTITY = 2**31 - 1  # so are stock quantities (PostgreSQL refuses a larger one)


def keys_in_range(keys: Any) -> list[int]:
    """Ids no row can have are dropped before they reach SQL (PostgreSQL would refuse them)."""
    return [k for k in keys if 0 <= k <= MAX_KEY]


def id_window(stmt: Any, column: Any, page: Any) -> Any:
    """A listing ordered by id alone, cut to a `KeysetPage`'s window (its positions' ids)."""
    if page.after is not None:
        stmt = stmt.where(column > page.after[1])
    if page.before is not None:
        stmt = stmt.where(column < page.before[1])
    return stmt.order_by(column.desc() if page.descending else column).limit(page.limit)


metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

products = sa.Table(
    "products",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("handle", sa.String(255), nullable=False, unique=True),
    sa.Column("title", sa.String(255), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("vendor", sa.String(255), nullable=False),
    sa.Column("category", sa.String(120), nullable=False, index=True),
    sa.Column("tags", sa.JSON, nullable=False),
    sa.Column("images", sa.JSON, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Index("ix_products_title_id", "title", "id"),
    sa.Index("ix_products_created_at_id", "created_at", "id"),
)

variants = sa.Table(
    "variants",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("product_id", sa.ForeignKey("products.id", ondelete="CASCADE"), nullable=False),
    sa.Column("sku", sa.String(64), nullable=False, unique=True),
    sa.Column("title", sa.String(255), nullable=False),
    sa.Column("options", sa.JSON, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    # Money in minor units: exact on every database, no float or driver-specific decimal.
    sa.Column("price_minor", sa.BigInteger, nullable=False),
    sa.Column("compare_at_minor", sa.BigInteger),
    sa.Column("currency_code", sa.String(3), nullable=False),
    # The catalog's upstream stopped selling it (not salable, deactivated, deleted): no stock
    # is shown or sold until it sells it again (migration 0012).
    sa.Column("withdrawn_at", UtcDateTime),
    sa.Index("ix_variants_product_id_position", "product_id", "position"),
)

locations = sa.Table(
    "locations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(32), nullable=False, unique=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("address1", sa.String(255), nullable=False),
    sa.Column("address2", sa.String(255)),
    sa.Column("city", sa.String(120), nullable=False),
    sa.Column("province", sa.String(120)),
    sa.Column("province_code", sa.String(8)),
    sa.Column("zip", sa.String(20)),
    sa.Column("country", sa.String(120), nullable=False),
    sa.Column("country_code", sa.String(2), nullable=False),
    sa.Column("phone", sa.String(40)),
    sa.Column("latitude", sa.Float, nullable=False),
    sa.Column("longitude", sa.Float, nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("pickup_enabled", sa.Boolean, nullable=False),
    sa.Column("ship_from_store_enabled", sa.Boolean, nullable=False),
    sa.Column("opening_hours", sa.JSON, nullable=False),
)

inventory_levels = sa.Table(
    "inventory_levels",
    metadata,
    sa.Column("variant_id", sa.ForeignKey("variants.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("location_id", sa.ForeignKey("locations.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("on_hand", sa.Integer, nullable=False),
    sa.Column("reserved", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    # Units kept out of online availability (the last ones on a store's shelf), not out of a
    # sale at the till.
    sa.Column("safety_stock", sa.Integer, nullable=False, server_default="0"),
    sa.CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
    sa.CheckConstraint("reserved >= 0", name="reserved_not_negative"),
    sa.Index("ix_inventory_levels_location_id", "location_id"),
)

inventory_adjustments = sa.Table(
    "inventory_adjustments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("variant_id", sa.ForeignKey("variants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("location_id", sa.ForeignKey("locations.id", ondelete="CASCADE"), nullable=False),
    sa.Column("delta", sa.Integer, nullable=False),
    sa.Column("on_hand_after", sa.Integer, nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("reference", sa.String(255)),
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Index("ix_inventory_adjustments_variant_location", "variant_id", "location_id"),
)

# -- carts, orders, reservations, payments (issue 3) ------------------------------------------

carts = sa.Table(
    "carts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    # SHA-256 of the cart's secret: a copy of the database does not hand out live carts.
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("member_id", sa.String(64)),
    sa.Column("currency_code", sa.String(3), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False, index=True),
    # The store a cart is built and priced at (a store tablet); its staff may open it. Added
    # by migration 0007 as plain ids (SQLite adds no foreign key to a table in place, and
    # rebuilding `carts` would cascade to its lines): a store or cart gone reads as none.
    sa.Column("location_id", sa.Integer),
    # The secret itself, kept only once the cart is a member's: it then opens for that member
    # alone, so it is no bearer secret, and `me.cart` / `Cart.mergedInto` can name the cart.
    sa.Column("token", sa.String(64)),
    # A cart merged into another when its member signed in elsewhere: the cart it lives on in.
    sa.Column("merged_into_id", sa.Integer),
    sa.Index("ix_carts_member_id", "member_id"),
)

cart_lines = sa.Table(
    "cart_lines",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("cart_id", sa.ForeignKey("carts.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("variant_id", sa.ForeignKey("variants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("location_id", sa.ForeignKey("locations.id", ondelete="CASCADE")),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.CheckConstraint("quantity > 0", name="quantity_positive"),
)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("member_id", sa.String(64)),
    sa.Column("cart_id", sa.ForeignKey("carts.id", ondelete="SET NULL"), index=True),
    sa.Column("currency_code", sa.String(3), nullable=False),
    sa.Column("subtotal_minor", sa.BigInteger, nullable=False),
    sa.Column("total_minor", sa.BigInteger, nullable=False),
    # The payment provider's idempotency key for this order: random, so it never repeats even
    # when a database reuses a deleted order's id.
    sa.Column("payment_key", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    # Who bought, as the ERP's order message needs it (migration 0012).
    sa.Column("email", sa.String(320)),
    sa.Column("buyer", sa.JSON),  # {"first_name", "last_name", "phone"}
    sa.Column("shipping_address", sa.JSON),
    sa.Column("erp_reference", sa.String(64)),  # the ERP's number, once it has the order
    sa.Column("erp_state", sa.String(16)),  # adapters.records.OrderState, as the ERP last said
    # A stuck checkout's one owner (the sweeper or a retry) until then: claimed before either
    # asks the payment provider anything.
    sa.Column("claimed_by", sa.String(64)),
    sa.Column("claimed_until", UtcDateTime),
    sa.Index("ix_orders_member_id_id", "member_id", "id"),
    sa.Index("ix_orders_status_created_at", "status", "created_at"),
)

order_fulfillments = sa.Table(
    "order_fulfillments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("order_id", sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("location_id", sa.ForeignKey("locations.id"), nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("hold_expires_at", UtcDateTime),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    # A pickup the checkout sent elsewhere because its store ran out (the `redirect` policy).
    sa.Column("redirected_from_id", sa.Integer),
    sa.Column("redirect_reason", sa.String(255)),
    sa.Index("ix_order_fulfillments_status_hold_expires_at", "status", "hold_expires_at"),
)

order_lines = sa.Table(
    "order_lines",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("order_id", sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column(
        "fulfillment_id",
        sa.ForeignKey("order_fulfillments.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("variant_id", sa.ForeignKey("variants.id"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),  # the cart's order of lines
    # What was bought, as it was called and priced at the time.
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("title", sa.String(512), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("unit_price_minor", sa.BigInteger, nullable=False),  # what was charged: after offers
    # The offer that took `discount_minor` off this line (issue 18): unit_price_minor is already
    # net of it, so charges, refunds and points follow the discount without knowing of it.
    sa.Column("discount_minor", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("offer_code", sa.String(64)),
    sa.CheckConstraint("quantity > 0", name="quantity_positive"),
)

reservations = sa.Table(
    "reservations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("variant_id", sa.Integer, nullable=False),
    sa.Column("location_id", sa.Integer, nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    # A cart line's hold, an order line's allocation, or both while a checkout takes payment.
    sa.Column("cart_line_id", sa.ForeignKey("cart_lines.id", ondelete="SET NULL"), index=True),
    sa.Column("order_line_id", sa.ForeignKey("order_lines.id"), index=True),
    sa.Column("expires_at", UtcDateTime, index=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.ForeignKeyConstraint(
        ["variant_id", "location_id"],
        ["inventory_levels.variant_id", "inventory_levels.location_id"],
        ondelete="CASCADE",
        name="fk_reservations_level_inventory_levels",
    ),
    sa.CheckConstraint("quantity > 0", name="quantity_positive"),
    sa.Index("ix_reservations_variant_location", "variant_id", "location_id"),
)

order_status_changes = sa.Table(
    "order_status_changes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("order_id", sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("fulfillment_id", sa.ForeignKey("order_fulfillments.id", ondelete="CASCADE")),
    sa.Column("fulfillment_status", sa.String(24)),
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Column("reason", sa.String(500)),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

payments = sa.Table(
    "payments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("order_id", sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("method", sa.String(16), nullable=False),
    sa.Column("provider", sa.String(32), nullable=False),
    sa.Column("reference", sa.String(255)),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
    sa.Column("refunded_minor", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("currency_code", sa.String(3), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.CheckConstraint("refunded_minor <= amount_minor", name="refund_within_amount"),
)

returns = sa.Table(
    "returns",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("order_id", sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("location_id", sa.ForeignKey("locations.id"), nullable=False),
    sa.Column("reason", sa.String(500)),
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Column("refund_minor", sa.BigInteger, nullable=False),
    sa.Column("refund_status", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

return_lines = sa.Table(
    "return_lines",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("return_id", sa.ForeignKey("returns.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column(
        "order_line_id",
        sa.ForeignKey("order_lines.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("exchange_variant_id", sa.ForeignKey("variants.id")),
    sa.CheckConstraint("quantity > 0", name="quantity_positive"),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    # scope: whose key it is ("cart:17", "store:3"); two clients never share a key's result.
    sa.Column("scope", sa.String(64), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("order_id", sa.ForeignKey("orders.id", ondelete="SET NULL")),
    sa.Column("error_code", sa.String(40)),
    sa.Column("error_message", sa.String(500)),
    sa.Column("created_at", UtcDateTime, nullable=False, index=True),
)

gift_cards = sa.Table(
    "gift_cards",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code_hash", sa.String(64), nullable=False, unique=True),  # SHA-256 of the code
    sa.Column("last4", sa.String(4), nullable=False),
    sa.Column("balance_minor", sa.BigInteger, nullable=False),
    sa.Column("currency_code", sa.String(3), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.CheckConstraint("balance_minor >= 0", name="balance_not_negative"),
)

gift_card_transactions = sa.Table(
    "gift_card_transactions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "gift_card_id",
        sa.ForeignKey("gift_cards.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),  # negative: a charge
    sa.Column("balance_after_minor", sa.BigInteger, nullable=False),
    sa.Column("idempotency_key", sa.String(300), nullable=False, unique=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

# Which local row an upstream's record became: the read model's join to the systems of record.
upstream_keys = sa.Table(
    "upstream_keys",
    metadata,
    sa.Column("upstream", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),  # product, variant, location
    sa.Column("external_key", sa.String(128), primary_key=True),
    sa.Column("local_id", sa.Integer, nullable=False),
    sa.Index("ix_upstream_keys_kind_local_id", "kind", "local_id"),
)

# Where each feed of each upstream stands: its watermark and when it last succeeded.
sync_state = sa.Table(
    "sync_state",
    metadata,
    sa.Column("upstream", sa.String(32), primary_key=True),
    sa.Column("feed", sa.String(16), primary_key=True),  # catalog, stock
    sa.Column("watermark", sa.String(64)),
    sa.Column("synced_at", UtcDateTime),
)

# Messages to upstreams, written in the same transaction as the change that causes them.
outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("topic", sa.String(64), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("available_at", UtcDateTime, nullable=False),  # not before: backoff and leases
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
    sa.Column("delivered_at", UtcDateTime),
    sa.Column("result", sa.JSON),
    sa.Column("dead_at", UtcDateTime),  # gave up after the attempt limit: waits for staff
    sa.Column("order_id", sa.Integer, index=True),  # the order a message is about, if any
    sa.Index("ix_outbox_pending", "delivered_at", "available_at"),
)

# -- members (issue 4) -------------------------------------------------------------------------

members = sa.Table(
    "members",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),  # the key carts and orders name
    sa.Column("email", sa.String(320), nullable=False, unique=True),  # stored lower-case
    sa.Column("first_name", sa.String(120), nullable=False),
    sa.Column("last_name", sa.String(120), nullable=False),
    sa.Column("phone", sa.String(40)),
    sa.Column("addresses", sa.JSON, nullable=False),
    sa.Column("preferred_location_id", sa.ForeignKey("locations.id", ondelete="SET NULL")),
    sa.Column("marketing_consent", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("password_hash", sa.String(255)),  # argon2; None: signs in elsewhere only
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

# The profile fields a CRM behind the member directory has no place for (the marketing consent,
# the preferred store; any field its adapter does not list in `profile_fields`), kept by the
# gateway under the CRM's member key: one owner per field (adapters/profiles.py).
member_profiles = sa.Table(
    "member_profiles",
    metadata,
    sa.Column("member_key", sa.String(64), primary_key=True),
    sa.Column("phone", sa.String(40)),
    sa.Column("preferred_location_id", sa.ForeignKey("locations.id", ondelete="SET NULL")),
    sa.Column("marketing_consent", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

# Marketing consent per member and channel (issue 18): a row is the member's own answer for that
# channel; a channel without a row falls back to the member's one `marketing_consent` flag.
marketing_consents = sa.Table(
    "marketing_consents",
    metadata,
    sa.Column("member_key", sa.String(64), primary_key=True),
    sa.Column("channel", sa.String(16), primary_key=True),  # EMAIL, SMS, PUSH
    sa.Column("granted", sa.Boolean, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

# Segments: rules over the unified profile (adapters/store/segments.py evaluates them in SQL).
segments = sa.Table(
    "segments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("rules", sa.JSON, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

# Offers: a percentage off, for a segment's members (or everyone), in some channels, at some
# stores or near a point; applied in cart pricing (resolvers/offers.py).
offers = sa.Table(
    "offers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("title", sa.String(255), nullable=False),
    sa.Column("percent_off", sa.Integer, nullable=False),
    sa.Column("segment_id", sa.Integer),  # plain id: a deleted segment leaves the offer for nobody
    sa.Column("channels", sa.JSON, nullable=False),  # [] every channel
    sa.Column("location_ids", sa.JSON, nullable=False),  # [] no list of stores
    sa.Column("near_latitude", sa.Float),
    sa.Column("near_longitude", sa.Float),
    sa.Column("radius_km", sa.Float),
    sa.Column("valid_from", UtcDateTime),
    sa.Column("valid_until", UtcDateTime),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.CheckConstraint("percent_off > 0 AND percent_off <= 100", name="percent_off_range"),
)

# Marketing webhooks (Standard Webhooks): where behavioral triggers are delivered, through the
# outbox. `secret` is the endpoint's `whsec_` signing key (the receiver holds it too).
webhook_endpoints = sa.Table(
    "webhook_endpoints",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("url", sa.String(2048), nullable=False),
    sa.Column("secret", sa.String(128), nullable=False),
    sa.Column("event_types", sa.JSON, nullable=False),  # [] every event
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

# A member watching a variant at a store: "back in stock" fires once, when it is available there.
stock_watches = sa.Table(
    "stock_watches",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("member_key", sa.String(64), nullable=False, index=True),
    sa.Column("variant_id", sa.ForeignKey("variants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("location_id", sa.ForeignKey("locations.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("notified_at", UtcDateTime),
    sa.UniqueConstraint(
        "member_key", "variant_id", "location_id", name="uq_stock_watches_member_variant_location"
    ),
)

# Each trigger fires once per occasion: the occasion's key ("cart.abandoned:12:<updated_at>")
# is written in the transaction that queues its webhooks. `value` keeps a last-known state
# (a member's tier, for tier.changed).
trigger_marks = sa.Table(
    "trigger_marks",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("value", sa.String(64)),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

# Every change of a member's points; the balance is their sum. `key` names the event that made
# the entry ("order:12:earn", "return:3:reverse", "payment:<key>:spend"): one entry per event,
# so a retried event never credits twice.
loyalty_entries = sa.Table(
    "loyalty_entries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("member_id", sa.String(64), nullable=False),
    sa.Column("key", sa.String(200), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),  # EARN, REVERSE, SPEND, REFUND
    sa.Column("points", sa.Integer, nullable=False),
    sa.Column("spend_minor", sa.BigInteger, nullable=False, server_default="0"),  # toward tiers
    sa.Column("order_id", sa.Integer),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Index("ix_loyalty_entries_member_id_id", "member_id", "id"),
)

# -- prices per channel, currency and market (issue 17) -----------------------------------------

# Which currency a country buys in; a country not listed buys in the shop's currency.
markets = sa.Table(
    "markets",
    metadata,
    sa.Column("country_code", sa.String(2), primary_key=True),
    sa.Column("currency_code", sa.String(3), nullable=False),
)

# A price list: prices in one currency, for a channel, a store, a member tier (each optional:
# the more it names, the more specific it is), between two instants (each optional).
price_lists = sa.Table(
    "price_lists",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("currency_code", sa.String(3), nullable=False),
    sa.Column("channel", sa.String(16)),
    sa.Column("location_id", sa.ForeignKey("locations.id", ondelete="CASCADE")),
    sa.Column("member_tier", sa.String(32)),
    sa.Column("valid_from", UtcDateTime),
    sa.Column("valid_until", UtcDateTime),
)

prices = sa.Table(
    "prices",
    metadata,
    sa.Column("price_list_id", sa.ForeignKey("price_lists.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("variant_id", sa.ForeignKey("variants.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("amount_minor", sa.BigInteger, nullable=False),
    sa.Column("compare_at_minor", sa.BigInteger),
    sa.CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
    sa.Index("ix_prices_variant_id", "variant_id"),
)

# -- analytics, support, audit (issue 18) -----------------------------------------------------
# Migration 0014 also indexes what the analytics aggregates scan by: orders by `created_at`,
# fulfillments by location, order lines by variant, returns and loyalty entries by date.
sa.Index("ix_orders_created_at", orders.c.created_at)
sa.Index("ix_order_fulfillments_location_id", order_fulfillments.c.location_id)
sa.Index("ix_order_lines_variant_id", order_lines.c.variant_id)
sa.Index("ix_returns_created_at", returns.c.created_at)
sa.Index("ix_loyalty_entries_created_at", loyalty_entries.c.created_at)
# Migration 0016: `locationOrders` (a store's pickup queue) filters a location's fulfillments by status.
sa.Index(
    "ix_order_fulfillments_location_id_status",
    order_fulfillments.c.location_id,
    order_fulfillments.c.status,
)

# Every read of a member's personal data by staff (and every export or erasure): who, when,
# which member, which fields. Written, never changed.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("actor", sa.String(255), nullable=False),  # the principal's subject, "staff:ana"
    sa.Column("member_id", sa.String(64), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),  # READ, EXPORT, ERASE
    sa.Column("fields", sa.JSON, nullable=False),  # the names of the fields read or changed
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Index("ix_audit_log_member_id_id", "member_id", "id"),
    sa.Index("ix_audit_log_at", "at"),
)

# Members' sign-ins and the channel they signed in on (`memberLogin(channel:)`): part of the
# support timeline.
member_sign_ins = sa.Table(
    "member_sign_ins",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("member_id", sa.String(64), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Index("ix_member_sign_ins_member_id_id", "member_id", "id"),
)

# Support conversations: opened in any channel, each message keeps the channel it came by.
support_tickets = sa.Table(
    "support_tickets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("member_id", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(255), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),  # where it was opened
    sa.Column("status", sa.String(16), nullable=False),  # OPEN, PENDING, RESOLVED, CLOSED
    sa.Column("opened_by", sa.String(255), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Index("ix_support_tickets_member_id_id", "member_id", "id"),
)

support_messages = sa.Table(
    "support_messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "ticket_id", sa.ForeignKey("support_tickets.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    sa.Column("channel", sa.String(16), nullable=False),  # WEB_CHAT, EMAIL, PHONE, STORE
    sa.Column("author", sa.String(255), nullable=False),  # "member:m1", "staff:ana"
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)
