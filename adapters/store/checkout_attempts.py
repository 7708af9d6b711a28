"""Checkout idempotency keys: a repeated checkout finds what the first one did, not a second order.

A key is claimed when its order is placed (adapters/store/checkout.py): PENDING while the checkout
runs, COMPLETED once the order is confirmed, FAILED (with the error) when it is abandoned;
finished keys are deleted when old.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from adapters.commerce import CheckoutAttempt
from adapters.ports.orders import AttemptTaken, OrderDraft
from adapters.store.tables import idempotency_keys

PENDING, COMPLETED, FAILED = "PENDING", "COMPLETED", "FAILED"


def attempt_from_row(row: Any) -> CheckoutAttempt:
    return CheckoutAttempt(
        scope=row.scope,
        key=row.key,
        fingerprint=row.fingerprint,
        status=row.status,
        order_id=row.order_id,
        error_code=row.error_code,
        error_message=row.error_message,
        created_at=row.created_at,
    )


async def claim_attempt(conn: Any, draft: OrderDraft, now: datetime) -> None:
    """Insert the key, or stop with what its first use did. On PostgreSQL a racing insert of
    the same key waits for the first transaction and then finds its row."""
    attempt = draft.attempt
    if attempt is None:
        return
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    claimed = await conn.scalar(
        insert(idempotency_keys)
        .values(
            scope=attempt.scope,
            key=attempt.key,
            fingerprint=attempt.fingerprint,
            status=PENDING,
            created_at=now,
        )
        .on_conflict_do_nothing()
        .returning(idempotency_keys.c.key)
    )
    if claimed is None:
        row = (
            await conn.execute(
                sa.select(idempotency_keys).where(
                    idempotency_keys.c.scope == attempt.scope,
                    idempotency_keys.c.key == attempt.key,
                )
            )
        ).one()
        raise AttemptTaken(attempt_from_row(row))


async def find_attempt(conn: Any, scope: str, key: str) -> CheckoutAttempt | None:
    row = (
        await conn.execute(
            sa.select(idempotency_keys).where(
                idempotency_keys.c.scope == scope, idempotency_keys.c.key == key
            )
        )
    ).first()
    return None if row is None else attempt_from_row(row)


async def forget_attempt(conn: Any, scope: str, key: str) -> None:
    await conn.execute(
        sa.delete(idempotency_keys).where(idempotency_keys.c.scope == scope, idempotency_keys.c.key == key)
    )


async def delete_attempts(conn: Any, older_than: datetime) -> int:
    result = await conn.execute(
        sa.delete(idempotency_keys)
        .where(idempotency_keys.c.created_at <= older_than)
        .where(idempotency_keys.c.status != PENDING)
    )
    return result.rowcount or 0
