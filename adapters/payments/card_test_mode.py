"""The built-in card provider: a documented test double, like a real processor's test mode.

No money moves and nothing leaves the process. It answers the way a processor's sandbox does:

| card token or number                        | result                                   |
| ------------------------------------------- | ---------------------------------------- |
| `tok_visa`, `tok_mastercard`, `tok_amex`    | approved                                 |
| `4242424242424242`, `5555555555554444`      | approved                                 |
| `tok_chargeDeclined`, `4000000000000002`    | declined: `card_declined`                |
| `tok_insufficientFunds`, `4000000000009995` | declined: `insufficient_funds`           |
| `tok_expiredCard`, `4000000000000069`       | declined: `expired_card`                 |
| `tok_unavailable`                           | the provider fails (`PaymentUnavailable`)|
| anything else                               | declined: `invalid_card`                 |

With `decline_all` (setting `GATEWAY_PAYMENTS_TEST_DECLINE_ALL=true`) every charge is declined
with `card_declined`: the switch for trying a front end's decline path with real cards' tokens.

Like a real processor it is idempotent: a charge repeated with the same idempotency key returns
the first outcome (approval or decline) and never charges twice. `charges` and `refunds` are
there for tests to look at.

A real processor remembers its charges when the gateway dies; by default this double forgets
them with the process. Given a `ledger` file (`GATEWAY_PAYMENTS_TEST_LEDGER`) it keeps every
outcome and void there (SQLite, written before the call returns), so a gateway restarted after
a crash meets the charges it made before, and a test can count them from outside.
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from secrets import token_hex

from adapters.commerce import PaymentMethod, PaymentStatus
from adapters.ports.payments import Charge, ChargeRequest, PaymentDeclined, PaymentUnavailable, RefundRequest

APPROVE = {"tok_visa", "tok_mastercard", "tok_amex", "4242424242424242", "5555555555554444"}
DECLINE = {
    "tok_chargeDeclined": "card_declined",
    "4000000000000002": "card_declined",
    "tok_insufficientFunds": "insufficient_funds",
    "4000000000009995": "insufficient_funds",
    "tok_expiredCard": "expired_card",
    "4000000000000069": "expired_card",
}
UNAVAILABLE = "tok_unavailable"


@dataclass(slots=True)
class TestCharge:
    __test__ = False  # a test double, not a test: pytest should not collect it
    reference: str
    idempotency_key: str
    amount_minor: int
    currency_code: str
    token: str
    voided: bool = False
    refunded_minor: int = 0


@dataclass(slots=True)
class TestCardProvider:
    __test__ = False
    name = "test"

    decline_all: bool = False
    latency: float = 0.0  # seconds each call takes, to make races and benchmarks realistic
    ledger: Path | None = None  # where outcomes outlive the process (see the module's doc)
    charges: list[TestCharge] = field(default_factory=list)
    refunds: list[tuple[str, int]] = field(default_factory=list)
    _outcomes: dict[str, TestCharge | PaymentDeclined] = field(default_factory=dict)
    _refund_keys: dict[str, str] = field(default_factory=dict)
    _numbers: itertools.count = field(default_factory=lambda: itertools.count(1))

    async def charge(self, request: ChargeRequest) -> Charge:
        if self.latency:
            await asyncio.sleep(self.latency)
        # No await below: a repeated key sees the first call's outcome, however they interleave.
        outcome = self._outcomes.get(request.idempotency_key) or self._recorded(request.idempotency_key)
        if outcome is None:
            outcome = self._record(request.idempotency_key, self._decide(request))
            self._outcomes[request.idempotency_key] = outcome
        if isinstance(outcome, PaymentDeclined):
            raise outcome
        return _charge(outcome)

    def _decide(self, request: ChargeRequest) -> TestCharge | PaymentDeclined:
        token = (request.card_token or "").replace(" ", "")
        if token == UNAVAILABLE:
            raise PaymentUnavailable("the test provider was told to fail")
        if self.decline_all:
            return PaymentDeclined("card_declined", "the card was declined")
        if token in DECLINE:
            return PaymentDeclined(DECLINE[token], f"the card was declined ({DECLINE[token]})")
        if token not in APPROVE:
            return PaymentDeclined("invalid_card", "the test provider does not know this card")
        charge = TestCharge(
            reference=f"test_ch_{next(self._numbers)}" if self.ledger is None else f"test_ch_{token_hex(6)}",
            idempotency_key=request.idempotency_key,
            amount_minor=request.amount_minor,
            currency_code=request.currency_code,
            token=token,
        )
        return charge

    async def void(self, idempotency_key: str) -> None:
        outcome = self._outcomes.get(idempotency_key) or self._recorded(idempotency_key)
        if isinstance(outcome, TestCharge):
            outcome.voided = True
            if self.ledger is not None:
                with _open(self.ledger) as db:
                    db.execute("UPDATE charges SET voided = 1 WHERE key = ?", (idempotency_key,))

    async def charged(self, idempotency_key: str) -> Charge | None:
        outcome = self._outcomes.get(idempotency_key) or self._recorded(idempotency_key)
        if not isinstance(outcome, TestCharge) or outcome.voided:
            return None
        return _charge(outcome)

    async def refund(self, request: RefundRequest) -> str:
        if self.latency:
            await asyncio.sleep(self.latency)
        if request.idempotency_key in self._refund_keys:
            return self._refund_keys[request.idempotency_key]
        charge = next((c for c in self.charges if c.reference == request.reference), None)
        if charge is None and self.ledger is not None:
            with _open(self.ledger) as db:
                row = db.execute(
                    "SELECT key FROM charges WHERE reference = ?", (request.reference,)
                ).fetchone()
            found = self._recorded(row["key"]) if row else None
            charge = found if isinstance(found, TestCharge) else None
        if charge is None or charge.voided:
            raise PaymentDeclined("unknown_charge", "the test provider has no such charge")
        if charge.refunded_minor + request.amount_minor > charge.amount_minor:
            raise PaymentDeclined("refund_exceeds_charge", "more than the charge would come back")
        charge.refunded_minor += request.amount_minor
        reference = f"test_re_{next(self._numbers)}"
        self._refund_keys[request.idempotency_key] = reference
        self.refunds.append((charge.reference, request.amount_minor))
        return reference

    def _recorded(self, key: str) -> TestCharge | PaymentDeclined | None:
        """An outcome of an earlier process (or another one) with this ledger."""
        if self.ledger is None:
            return None
        with _open(self.ledger) as db:
            row = db.execute("SELECT * FROM charges WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        outcome = _outcome(row)
        self._outcomes[key] = outcome
        if isinstance(outcome, TestCharge):
            self.charges.append(outcome)
        return outcome

    def _record(self, key: str, outcome: TestCharge | PaymentDeclined) -> TestCharge | PaymentDeclined:
        """Keep the outcome; with a ledger, the first writer of a key wins."""
        if self.ledger is not None:
            charged = isinstance(outcome, TestCharge)
            with _open(self.ledger) as db:
                db.execute(
                    "INSERT OR IGNORE INTO charges VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
                    (key, outcome.reference, outcome.amount_minor, outcome.currency_code, outcome.token,
                     None, None) if charged else (key, None, 0, "", "", outcome.reason, outcome.message),
                )  # fmt: skip
            self._outcomes.pop(key, None)
            recorded = self._recorded(key)
            assert recorded is not None
            return recorded
        if isinstance(outcome, TestCharge):
            self.charges.append(outcome)
        return outcome


def _charge(charge: TestCharge) -> Charge:
    return Charge(
        method=PaymentMethod.CARD,
        provider=TestCardProvider.name,
        reference=charge.reference,
        amount_minor=charge.amount_minor,
        currency_code=charge.currency_code,
        status=PaymentStatus.CAPTURED,
    )


@contextmanager
def _open(path: Path) -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(path, timeout=10, isolation_level=None)  # autocommit: durable on return
    try:
        db.row_factory = sqlite3.Row
        db.execute(
            "CREATE TABLE IF NOT EXISTS charges (key TEXT PRIMARY KEY, reference TEXT, amount_minor INTEGER,"
            " currency_code TEXT, token TEXT, decline_code TEXT, decline_message TEXT, voided INTEGER)"
        )
        yield db
    finally:
        db.close()


def _outcome(row: sqlite3.Row) -> TestCharge | PaymentDeclined:
    if row["reference"] is None:
        return PaymentDeclined(row["decline_code"], row["decline_message"])
    return TestCharge(row["reference"], row["key"], row["amount_minor"], row["currency_code"], row["token"],
                      voided=bool(row["voided"]))  # fmt: skip


def ledger_charges(path: Path) -> list[TestCharge]:
    """Every approved charge a ledger holds (for tests counting charges across processes)."""
    with _open(path) as db:
        rows = db.execute("SELECT * FROM charges WHERE reference IS NOT NULL ORDER BY rowid").fetchall()
    return [c for c in map(_outcome, rows) if isinstance(c, TestCharge)]
