"""How fresh the read model is, per upstream feed, for the warnings responses carry."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.resilience import UpstreamHealth


@dataclass(slots=True)
class FeedStatus:
    upstream: str
    data: str  # what a client would call it: catalog, inventory
    health: UpstreamHealth
    synced_at: datetime | None = None
    last_error: str | None = None  # the last sync's failure, cleared by a success


@dataclass(slots=True)
class Freshness:
    stale_after: timedelta
    feeds: list[FeedStatus] = field(default_factory=list)

    def stale(self, now: datetime | None = None) -> list[FeedStatus]:
        now = now or datetime.now(UTC)
        return [feed for feed in self.feeds if _why_stale(feed, now, self.stale_after) is not None]

    def warnings(self, now: datetime | None = None) -> list[dict[str, Any]]:
        now = now or datetime.now(UTC)
        found = []
        for feed in self.feeds:
            reason = _why_stale(feed, now, self.stale_after)
            if reason is None:
                continue
            since = feed.synced_at.isoformat() if feed.synced_at else None
            found.append(
                {
                    "code": "STALE_DATA",
                    "data": feed.data,
                    "upstream": feed.upstream,
                    "since": since,
                    "message": f"{feed.data} from {feed.upstream} may be stale"
                    + (f" since {since}" if since else "")
                    + f": {reason}",
                }
            )
        return found


def _why_stale(feed: FeedStatus, now: datetime, stale_after: timedelta) -> str | None:
    if feed.health.breaker == "opened":
        return f"{feed.upstream} is unavailable (circuit open)"
    if feed.last_error:
        return feed.last_error
    if feed.synced_at is None:
        return "not synchronised yet"
    if now - feed.synced_at > stale_after:
        return "not synchronised recently"
    return None
