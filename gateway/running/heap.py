"""The cyclic garbage collector, tuned for a long-running server process.

Measured on the listing (bench/RESULTS.md): with CPython's defaults a full collection ran every
~250 requests and took ~100 ms, walking the ~160,000 objects that live as long as the process
(the schema, compiled plans, SQLAlchemy's metadata, the modules). That was the whole p99 of a
single client. Freezing what exists once the gateway has started moves those objects out of the
collector's sight (gc.freeze); later full collections walk only what came after. Requests free
their objects by reference counting; the young generation is collected less often, since a
listing allocates thousands of containers that are all garbage when it answers.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger("omnigate.heap")

YOUNG_THRESHOLD = 50_000  # CPython's default is 700 container allocations
OLDER_THRESHOLDS = (20, 100)  # defaults (10, 10)


def freeze_startup_heap() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
    log.info("heap frozen after start: %d objects left out of garbage collection", gc.get_freeze_count())
