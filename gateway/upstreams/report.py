"""What `/readyz` says of each upstream: its roles, its circuit, its last success and failure, and
each of its feeds' last sync, lag and staleness. Reported, never a reason to leave rotation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.upstreams.connect import ConnectedUpstreams
    from gateway.upstreams.freshness import Freshness


def upstream_report(upstreams: ConnectedUpstreams, freshness: Freshness) -> dict[str, dict[str, Any]]:
    """Per configured upstream: its roles, circuit, last success and failure, and each feed's
    last sync and lag (seconds), for /readyz."""
    now = datetime.now(UTC)
    stale = {(f.upstream, f.data) for f in freshness.stale(now)} if freshness.feeds else set()
    report: dict[str, dict[str, Any]] = {}
    for name, upstream in upstreams.by_name.items():
        guard = getattr(upstream, "guard", None)
        if guard is None:
            continue
        health = guard.health
        report[name] = {
            "roles": upstreams.roles_of(name),
            "available": health.available,
            "circuit": health.breaker,
            "lastSuccess": _iso(health.last_ok),
            "lastFailure": _iso(health.last_failure),
            "lastError": health.last_error,
            "feeds": {},
        }
    for feed in freshness.feeds:
        entry = report.setdefault(feed.upstream, {"feeds": {}})
        lag = (now - feed.synced_at).total_seconds() if feed.synced_at else None
        entry["feeds"][feed.data] = {
            "syncedAt": _iso(feed.synced_at),
            "lagSeconds": None if lag is None else round(lag, 3),
            "lastError": feed.last_error,
            "stale": (feed.upstream, feed.data) in stale,
        }
    return report


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
