"""Change notifications (PostgreSQL only): stock and catalog rows written by anything but the
gateway (an ERP, a till, a script) raise a NOTIFY, which each gateway process LISTENs to
(adapters/store/notifications.py) to forget its cached copies and push `stockChanged`.

The gateway's own connections say `application_name = 'omnigate'` and are skipped: the gateway
publishes its own changes itself, after they are committed. A NOTIFY is sent at commit, so a
rolled-back write is never announced. On SQLite this migration does nothing.

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-06
"""

from alembic import op

revision = "0011"
down_revision = "0007"
branch_labels = None
depends_on = None

STOCK_CHANNEL, CATALOG_CHANNEL = "omnigate_stock", "omnigate_catalog"

_FROM_ELSEWHERE = "coalesce(current_setting('application_name', true), '') NOT LIKE 'omnigate%'"

STOCK = f"""
CREATE OR REPLACE FUNCTION omnigate_notify_stock() RETURNS trigger AS $$
DECLARE level inventory_levels;
BEGIN
  IF {_FROM_ELSEWHERE} THEN
    IF TG_OP = 'DELETE' THEN level := OLD; ELSE level := NEW; END IF;
    PERFORM pg_notify('{STOCK_CHANNEL}', json_build_object(
      'variant_id', level.variant_id, 'location_id', level.location_id,
      'on_hand', CASE WHEN TG_OP = 'DELETE' THEN 0 ELSE level.on_hand END,
      'reserved', CASE WHEN TG_OP = 'DELETE' THEN 0 ELSE level.reserved END,
      'updated_at', level.updated_at)::text);
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql
"""

CATALOG = f"""
CREATE OR REPLACE FUNCTION omnigate_notify_catalog() RETURNS trigger AS $$
DECLARE product_id integer;
BEGIN
  IF {_FROM_ELSEWHERE} THEN
    IF TG_TABLE_NAME = 'products' THEN
      IF TG_OP = 'DELETE' THEN product_id := OLD.id; ELSE product_id := NEW.id; END IF;
    ELSE
      IF TG_OP = 'DELETE' THEN product_id := OLD.product_id; ELSE product_id := NEW.product_id; END IF;
    END IF;
    PERFORM pg_notify('{CATALOG_CHANNEL}', json_build_object('product_id', product_id)::text);
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql
"""

TRIGGERS = (
    ("inventory_levels", "omnigate_stock_changed", "omnigate_notify_stock"),
    ("products", "omnigate_product_changed", "omnigate_notify_catalog"),
    ("variants", "omnigate_variant_changed", "omnigate_notify_catalog"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(STOCK)
    op.execute(CATALOG)
    for table, trigger, function in TRIGGERS:
        op.execute(
            f"CREATE TRIGGER {trigger} AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, trigger, _ in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
    op.execute("DROP FUNCTION IF EXISTS omnigate_notify_stock()")
    op.execute("DROP FUNCTION IF EXISTS omnigate_notify_catalog()")
