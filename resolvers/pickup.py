"""When an order placed now could be collected at a store.

The business rule: staff prepare pickups only while the store is open, and preparing takes the
configured lead time. Preparation starts at the first open moment from now; if it cannot finish
before that day's closing, the order is ready the next opening day, lead time after opening.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from adapters.records import DayOfWeek, LocationRecord

_DAYS = list(DayOfWeek)  # Monday first, like date.weekday()


def pickup_ready_by(location: LocationRecord, now: datetime, lead: timedelta) -> datetime | None:
    if not location.pickup_enabled or not location.opening_hours:
        return None
    zone = ZoneInfo(location.timezone)
    hours = {
        h.day: (time.fromisoformat(h.opens), time.fromisoformat(h.closes)) for h in location.opening_hours
    }
    local_now = now.astimezone(zone)
    for offset in range(8):
        day: date = local_now.date() + timedelta(days=offset)
        window = hours.get(_DAYS[day.weekday()])
        if window is None:
            continue
        opens = datetime.combine(day, window[0], zone)
        closes = datetime.combine(day, window[1], zone)
        ready = max(local_now, opens) + lead
        if ready <= closes:
            return ready.astimezone(UTC)
    return None
