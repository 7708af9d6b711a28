"""Gift cards: balances in the gateway's database, spent and credited once per idempotency key.

A code is a bearer instrument, so only its SHA-256 is stored (and its last four characters, to
show on a receipt).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from adapters.ports.payments import PaymentDeclined
from adapters.store.tables import gift_card_transactions, gift_cards

if TYPE_CHECKING:
    from adapters.store.engine import Database

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


def new_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(16))  # 80 bits
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def code_hash(code: str) -> str:
    normalized = code.replace("-", "").replace(" ", "").upper()
    return hashlib.sha256(normalized.encode()).hexdigest()


class StoreGiftCards:
    def __init__(self, store: Database) -> None:
        self._store = store

    async def issue(self, amount_minor: int, currency_code: str, now: datetime) -> tuple[str, int]:
        code = new_code()

        async def work(conn: Any) -> None:
            await conn.execute(
                sa.insert(gift_cards).values(
                    code_hash=code_hash(code),
                    last4=code[-4:],
                    balance_minor=amount_minor,
                    currency_code=currency_code,
                    created_at=now,
                    updated_at=now,
                )
            )

        await self._store.write(work)
        return code, amount_minor

    async def _done(self, key: str) -> str | None:
        async with self._store.reading() as conn:
            found = await conn.scalar(
                sa.select(gift_card_transactions.c.id).where(gift_card_transactions.c.idempotency_key == key)
            )
        return None if found is None else f"gct_{found}"

    async def _move(self, card: Any, amount_minor: int, key: str, now: datetime) -> str:
        """Add `amount_minor` (negative: spend) to a card, once for this key."""

        async def work(conn: Any) -> str:
            found = await conn.scalar(
                sa.select(gift_card_transactions.c.id).where(gift_card_transactions.c.idempotency_key == key)
            )
            if found is not None:
                return f"gct_{found}"
            balance = await conn.scalar(
                sa.update(gift_cards)
                .where(card, gift_cards.c.balance_minor + amount_minor >= 0)
                .values(balance_minor=gift_cards.c.balance_minor + amount_minor, updated_at=now)
                .returning(gift_cards.c.balance_minor)
            )
            if balance is None:
                left = await conn.scalar(sa.select(gift_cards.c.balance_minor).where(card))
                if left is None:
                    raise PaymentDeclined("unknown_gift_card", "no gift card has this code")
                raise PaymentDeclined(
                    "insufficient_balance", "the gift card's balance does not cover the amount"
                )
            card_id = await conn.scalar(sa.select(gift_cards.c.id).where(card))
            tx = await conn.scalar(
                sa.insert(gift_card_transactions)
                .values(
                    gift_card_id=card_id,
                    amount_minor=amount_minor,
                    balance_after_minor=balance,
                    idempotency_key=key,
                    created_at=now,
                )
                .returning(gift_card_transactions.c.id)
            )
            return f"gct_{tx}"

        try:
            return await self._store.write(work)
        except IntegrityError:
            # Two calls with one key raced; the loser's transaction (and its debit) rolled back.
            done = await self._done(key)
            if done is None:
                raise
            return done

    async def _same_currency(self, card: Any, currency_code: str | None) -> None:
        """Decline a card that holds money of another kind: its balance is never converted."""
        if currency_code is None:
            return
        async with self._store.reading() as conn:
            held = await conn.scalar(sa.select(gift_cards.c.currency_code).where(card))
        if held is not None and held != currency_code:
            raise PaymentDeclined(
                "currency_mismatch", f"this gift card holds {held}; the order is in {currency_code}"
            )

    async def charge(
        self, code: str, amount_minor: int, key: str, now: datetime, currency_code: str | None = None
    ) -> str:
        card = gift_cards.c.code_hash == code_hash(code)
        await self._same_currency(card, currency_code)
        return await self._move(card, -amount_minor, key, now)

    async def charge_up_to(
        self, code: str, amount_minor: int, key: str, now: datetime, currency_code: str | None = None
    ) -> tuple[str, int]:
        """What the balance covers, at most `amount_minor`, read and taken under the card's row
        lock (PostgreSQL's FOR UPDATE; SQLite's write transactions run one at a time). A charge
        of nothing is recorded too, so a resumed checkout finds the same split."""
        card = gift_cards.c.code_hash == code_hash(code)
        await self._same_currency(card, currency_code)

        async def work(conn: Any) -> tuple[str, int]:
            done = (
                await conn.execute(
                    sa.select(gift_card_transactions.c.id, gift_card_transactions.c.amount_minor).where(
                        gift_card_transactions.c.idempotency_key == key
                    )
                )
            ).first()
            if done is not None:
                return f"gct_{done.id}", -done.amount_minor
            locked = sa.select(gift_cards.c.id, gift_cards.c.balance_minor).where(card).with_for_update()
            found = (await conn.execute(locked)).first()
            if found is None:
                raise PaymentDeclined("unknown_gift_card", "no gift card has this code")
            taken = max(min(found.balance_minor, amount_minor), 0)
            await conn.execute(
                sa.update(gift_cards)
                .where(gift_cards.c.id == found.id)
                .values(balance_minor=found.balance_minor - taken, updated_at=now)
            )
            tx = await conn.scalar(
                sa.insert(gift_card_transactions)
                .values(
                    gift_card_id=found.id,
                    amount_minor=-taken,
                    balance_after_minor=found.balance_minor - taken,
                    idempotency_key=key,
                    created_at=now,
                )
                .returning(gift_card_transactions.c.id)
            )
            return f"gct_{tx}", taken

        try:
            return await self._store.write(work)
        except IntegrityError:
            # Two calls with one key raced; the loser's transaction (and its debit) rolled back.
            done = await self._done(key)
            if done is None:
                raise
            return done, await self.charged(key)

    async def credit(self, reference: str, amount_minor: int, key: str, now: datetime) -> str:
        """Money back onto the card a charge (`gct_<id>`) came from."""
        charged = (
            sa.select(gift_card_transactions.c.gift_card_id)
            .where(gift_card_transactions.c.id == _transaction_id(reference))
            .scalar_subquery()
        )
        return await self._move(gift_cards.c.id == charged, amount_minor, key, now)

    async def reverse(self, key: str, now: datetime) -> None:
        """Undo the charge made with `key`, if there was one (a checkout that never finished)."""
        done = await self._done(key)
        if done is None:
            return
        async with self._store.reading() as conn:
            amount = await conn.scalar(
                sa.select(gift_card_transactions.c.amount_minor).where(
                    gift_card_transactions.c.idempotency_key == key
                )
            )
        await self.credit(done, -amount, f"{key}:void", now)

    async def charged(self, key: str) -> int:
        async with self._store.reading() as conn:
            amount = await conn.scalar(
                sa.select(gift_card_transactions.c.amount_minor).where(
                    gift_card_transactions.c.idempotency_key == key
                )
            )
        return max(-(amount or 0), 0)

    async def balance_with_currency(self, code: str) -> tuple[int, str] | None:
        async with self._store.reading() as conn:
            row = (
                await conn.execute(
                    sa.select(gift_cards.c.balance_minor, gift_cards.c.currency_code).where(
                        gift_cards.c.code_hash == code_hash(code)
                    )
                )
            ).first()
        return None if row is None else (row.balance_minor, row.currency_code)

    async def balance(self, code: str) -> int | None:
        async with self._store.reading() as conn:
            return await conn.scalar(
                sa.select(gift_cards.c.balance_minor).where(gift_cards.c.code_hash == code_hash(code))
            )


def _transaction_id(reference: str) -> int:
    prefix, _, number = reference.partition("_")
    if prefix != "gct" or not number.isdigit():
        raise PaymentDeclined("unknown_charge", "not a gift card charge")
    return int(number)
