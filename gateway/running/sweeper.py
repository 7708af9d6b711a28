"""The background task behind `GATEWAY_RESERVATION_SWEEP_SECONDS`: sweep, sleep, repeat.

A failed sweep is logged and tried again next time; it must never take the gateway down. The
gateway also sweeps once at start, before it serves: holds that expired while it was down are
released then, not an interval later.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import astuple
from typing import Any

log = logging.getLogger("omnigate.sweeper")


async def sweep_every(sweep: Callable[[], Awaitable[Any]], seconds: float) -> None:
    while True:
        await asyncio.sleep(seconds)
        await sweep_once(sweep, seconds)


async def sweep_once(sweep: Callable[[], Awaitable[Any]], seconds: float) -> None:
    try:
        report = await sweep()
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("sweep failed; trying again in %s s", seconds)
        return
    if any(astuple(report)):
        log.info("swept: %s", report)
