"""Cross-channel analytics for staff: the reports' date range and whose figures they show, the
figures derived from the database's aggregates, and each report as CSV for spreadsheets.

A store manager (analytics:read) sees the figures of the locations they work at; analytics:all
sees every location and the loyalty liability. "Today" is the gateway's clock.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

from adapters.records import Money
from adapters.support import FulfillmentMixRow, LoyaltyRow, ReturnsRow, SalesRow, StockRow
from resolvers.errors import BadUserInput

if TYPE_CHECKING:
    from resolvers.context import ResolverContext

DEFAULT_DAYS = 30
MAX_DAYS = 400  # a year and a bit: the reports are meant for periods, not for all of history


@dataclass(frozen=True, slots=True)
class ReportRange:
    """Days `since` to `until`, both included, and the locations whose figures count (None:
    every location)."""

    since: date
    until: date
    locations: frozenset[int] | None

    @property
    def start(self) -> datetime:
        return datetime.combine(self.since, time.min, UTC)

    @property
    def end(self) -> datetime:  # exclusive
        return datetime.combine(self.until + timedelta(days=1), time.min, UTC)

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1


def report_range(ctx: ResolverContext, since: date | None, until: date | None) -> ReportRange:
    today = ctx.now().astimezone(UTC).date()
    until = until or today
    since = since or until - timedelta(days=DEFAULT_DAYS - 1)
    if since > until:
        raise BadUserInput("`since` must not be after `until`", field="since")
    if (until - since).days + 1 > MAX_DAYS:
        raise BadUserInput(f"a report covers at most {MAX_DAYS} days", field="since")
    return ReportRange(since, until, ctx.principal.analytics_locations())


def _analytics(ctx: ResolverContext) -> Any:
    source = ctx.upstreams.analytics
    if source is None:
        raise BadUserInput("no analytics source is configured")
    return source


def ratio(part: int, whole: int) -> Decimal | None:
    """A share as an exact decimal with four places (0.1234 = 12.34%); None of nothing."""
    if whole == 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_EVEN)


def average_order_value(row: SalesRow) -> Money:
    if row.orders == 0:
        return Money.from_minor(0, row.currency_code)
    minor = (Decimal(row.sales_minor) / row.orders).quantize(Decimal(1), ROUND_HALF_EVEN)
    return Money.from_minor(int(minor), row.currency_code)


async def sales(
    ctx: ResolverContext, scope: ReportRange, by_channel: bool, by_location: bool, period: str | None
) -> list[SalesRow]:
    return await _analytics(ctx).sales(  # type: ignore[no-any-return]
        scope.start, scope.end, scope.locations, by_channel=by_channel, by_location=by_location, period=period
    )


async def fulfillment_mix(ctx: ResolverContext, scope: ReportRange) -> list[FulfillmentMixRow]:
    return await _analytics(ctx).fulfillment_mix(scope.start, scope.end, scope.locations)  # type: ignore[no-any-return]


async def returns(ctx: ResolverContext, scope: ReportRange) -> list[ReturnsRow]:
    return await _analytics(ctx).returns(scope.start, scope.end, scope.locations)  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class StockFigures:
    row: StockRow
    sell_through: Decimal | None  # sold / (sold + on hand)
    cover_days: Decimal | None  # on hand / units sold per day; None when nothing sold


async def stock(ctx: ResolverContext, scope: ReportRange) -> list[StockFigures]:
    rows: list[StockRow] = await _analytics(ctx).stock(scope.start, scope.end, scope.locations)
    figures = []
    for row in rows:
        cover = None
        if row.units_sold:
            cover = (Decimal(row.on_hand) * scope.days / row.units_sold).quantize(
                Decimal("0.1"), ROUND_HALF_EVEN
            )
        figures.append(StockFigures(row, ratio(row.units_sold, row.units_sold + row.on_hand), cover))
    return figures


@dataclass(frozen=True, slots=True)
class LoyaltyFigures:
    outstanding_points: int
    outstanding_value: Money  # a point pays a minor unit of the shop's currency
    periods: list[LoyaltyRow]


async def loyalty(ctx: ResolverContext, scope: ReportRange, period: str) -> LoyaltyFigures:
    source = _analytics(ctx)
    points = await source.points_outstanding(scope.end)
    rows = await source.loyalty(scope.start, scope.end, period)
    return LoyaltyFigures(points, Money.from_minor(points, ctx.policy.currency_code), rows)


def as_csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """RFC 4180 text (CRLF line ends), one header line; None is an empty cell."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    return out.getvalue()
