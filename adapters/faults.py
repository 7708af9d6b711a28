"""Named points of a checkout where the crash tests (tests/test_crash.py) kill the process.

`reach(point)` does nothing unless the gateway was started with `GATEWAY_TEST_FAULT` naming
that point, which it honours only with the built-in test card provider (no real money can be
involved; `gateway/settings.py` refuses the variable otherwise). Then the process kills itself
with SIGKILL, the way an out-of-memory killer or a pulled plug would: no `finally`, no
rollback, no flush. What the database and the provider hold at that moment is what recovery
must make consistent.

    after_allocation     place committed: stock allocated to a PENDING_PAYMENT order, no charge
    after_charge         the provider charged the order's key; nothing of it recorded yet
    after_order_insert   in the confirm transaction: the payment row written, not committed
    before_response      everything committed and published; the answer not yet sent
"""

from __future__ import annotations

import os
import signal

POINTS = ("after_allocation", "after_charge", "after_order_insert", "before_response")
_armed: str | None = None


def arm(point: str | None) -> None:
    if point is not None and point not in POINTS:
        raise ValueError(f"unknown fault point {point!r}; one of {', '.join(POINTS)}")
    global _armed
    _armed = point


def reach(point: str) -> None:
    if point == _armed:
        os.kill(os.getpid(), signal.SIGKILL)
