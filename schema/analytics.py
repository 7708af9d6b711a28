"""Cross-channel analytics for staff: `analytics(since, until)` and its reports, each with a CSV
rendering for spreadsheets. Figures of the caller's locations (analytics:read) or of every
location (analytics:all). Personal to the caller's role: no cache topics."""

from __future__ import annotations

import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from adapters.records import Money as MoneyRecord
from adapters.support import FulfillmentMixRow, ReturnsRow, SalesRow
from resolvers import analytics
from resolvers.analytics import LoyaltyFigures, ReportRange, StockFigures
from schema.common import Channel, Money
from schema.ids import to_global_id
from schema.locations import Location
from schema.permissions import IsAnalyst, IsHeadOfficeAnalyst


@strawberry.enum(description="What sales figures are split by.")
class SalesDimension(Enum):
    CHANNEL = "CHANNEL"
    LOCATION = "LOCATION"


@strawberry.enum(description="UTC days, or weeks starting on Monday.")
class ReportPeriod(Enum):
    DAY = "DAY"
    WEEK = "WEEK"


@strawberry.enum(description="How a sale's goods reach the customer.")
class FulfillmentShare(Enum):
    SHIP = "SHIP"
    PICKUP = "PICKUP"  # click & collect
    RESERVE = "RESERVE"  # reserve in store
    SHIP_FROM_STORE = "SHIP_FROM_STORE"
    IN_STORE = "IN_STORE"  # till sales


def _money(minor: int, currency: str) -> MoneyRecord:
    return MoneyRecord.from_minor(minor, currency)


def _location_gid(location_id: int | None) -> str | None:
    return None if location_id is None else to_global_id("Location", location_id)


async def _location(info: Info, location_id: int | None) -> Any:
    return None if location_id is None else await info.context.loaders.location_by_id.load(location_id)


@strawberry.type(
    name="SalesRow", description="Sales of one group: a channel, a location, a period, a currency."
)
class SalesRowType:
    orders: int = strawberry.field(description="Orders with a line in this group.")
    units: int

    @strawberry.field
    def channel(root: SalesRow) -> Channel | None:  # type: ignore[valid-type]
        return None if root.channel is None else Channel(root.channel)  # type: ignore[misc]

    @strawberry.field
    async def location(root: SalesRow, info: Info) -> Location | None:
        return await _location(info, root.location_id)  # type: ignore[no-any-return]

    @strawberry.field(description="The first day of the group's period (UTC), when split by period.")
    def period(root: SalesRow) -> datetime.date | None:
        return root.period

    @strawberry.field(description="Quantity x unit price of the lines sold.")
    def sales(root: SalesRow) -> Money:
        return _money(root.sales_minor, root.currency_code)  # type: ignore[return-value]

    @strawberry.field
    def average_order_value(root: SalesRow) -> Money:
        return analytics.average_order_value(root)  # type: ignore[return-value]


SALES_HEADER = ["channel", "location", "period", "currency", "orders", "units", "sales", "averageOrderValue"]


def _sales_csv(rows: list[SalesRow]) -> str:
    return analytics.as_csv(
        SALES_HEADER,
        [
            [r.channel, _location_gid(r.location_id), r.period, r.currency_code, r.orders, r.units,
             _money(r.sales_minor, r.currency_code).amount, analytics.average_order_value(r).amount]
            for r in rows
        ],
    )  # fmt: skip


@strawberry.type(description="Sales, orders, units and average order value of the range.")
class SalesReport:
    rows: list[SalesRowType]

    @strawberry.field(description="The rows as CSV (RFC 4180, a header line first).")
    def csv(root: Any) -> str:
        return _sales_csv(root.rows)


@strawberry.type(name="FulfillmentMixRow", description="One way of fulfilling: its orders, units and sales.")
class FulfillmentMixRowType:
    orders: int
    units: int

    @strawberry.field
    def mode(root: FulfillmentMixRow) -> FulfillmentShare:
        return FulfillmentShare(root.mode)

    @strawberry.field
    def sales(root: FulfillmentMixRow) -> Money:
        return _money(root.sales_minor, root.currency_code)  # type: ignore[return-value]


@strawberry.type(description="The share of each way of fulfilling in the range's sales.")
class FulfillmentMixReport:
    rows: list[FulfillmentMixRowType]

    @strawberry.field(description="Each mode's share of the orders, 0 to 1 (an order may use several).")
    def order_share(root: Any, mode: FulfillmentShare) -> Decimal | None:
        total = sum(r.orders for r in root.rows)
        return analytics.ratio(sum(r.orders for r in root.rows if r.mode == mode.value), total)

    @strawberry.field(description="A mode's share of the units sold, 0 to 1.")
    def unit_share(root: Any, mode: FulfillmentShare) -> Decimal | None:
        total = sum(r.units for r in root.rows)
        return analytics.ratio(sum(r.units for r in root.rows if r.mode == mode.value), total)

    @strawberry.field(description="The rows as CSV, with each mode's share of the units.")
    def csv(root: Any) -> str:
        total = sum(r.units for r in root.rows)
        return analytics.as_csv(
            ["mode", "currency", "orders", "units", "sales", "unitShare"],
            [
                [r.mode, r.currency_code, r.orders, r.units, _money(r.sales_minor, r.currency_code).amount,
                 analytics.ratio(r.units, total)]
                for r in root.rows
            ],
        )  # fmt: skip


@strawberry.type(name="ReturnsRow", description="Returns of the range's sales through one channel.")
class ReturnsRowType:
    units_sold: int
    units_returned: int
    returns_in_store: int = strawberry.field(description="Returns taken back at a store.")
    returns_elsewhere: int = strawberry.field(description="Returns sent back to a warehouse.")
    cross_channel_returns: int = strawberry.field(
        description="Returns made through another channel than the sale's (bought online, returned "
        "in a store; bought in a store, sent back)."
    )

    @strawberry.field
    def channel(root: ReturnsRow) -> Channel:  # type: ignore[valid-type]
        return Channel(root.channel)  # type: ignore[misc, no-any-return]

    @strawberry.field(description="Units returned / units sold, 0 to 1.")
    def return_rate(root: ReturnsRow) -> Decimal | None:
        return analytics.ratio(root.units_returned, root.units_sold)


@strawberry.type(description="Returns rate by channel, and returns that crossed channels.")
class ReturnsReport:
    rows: list[ReturnsRowType]

    @strawberry.field
    def csv(root: Any) -> str:
        return analytics.as_csv(
            ["channel", "unitsSold", "unitsReturned", "returnRate", "returnsInStore", "returnsElsewhere",
             "crossChannelReturns"],
            [
                [r.channel, r.units_sold, r.units_returned, analytics.ratio(r.units_returned, r.units_sold),
                 r.returns_in_store, r.returns_elsewhere, r.cross_channel_returns]
                for r in root.rows
            ],
        )  # fmt: skip


@strawberry.type(name="StockRow", description="One category at one location.")
class StockRowType:
    @strawberry.field
    async def location(root: StockFigures, info: Info) -> Location | None:
        return await _location(info, root.row.location_id)  # type: ignore[no-any-return]

    @strawberry.field
    def category(root: StockFigures) -> str:
        return root.row.category

    @strawberry.field(description="Units on hand now.")
    def on_hand(root: StockFigures) -> int:
        return root.row.on_hand

    @strawberry.field(description="Units sold from this location in the range.")
    def units_sold(root: StockFigures) -> int:
        return root.row.units_sold

    @strawberry.field(description="Sold / (sold + on hand), 0 to 1.")
    def sell_through(root: StockFigures) -> Decimal | None:
        return root.sell_through

    @strawberry.field(description="Days the stock on hand lasts at the range's rate of sale.")
    def cover_days(root: StockFigures) -> Decimal | None:
        return root.cover_days


@strawberry.type(description="Sell-through and stock cover per location and category.")
class StockReport:
    rows: list[StockRowType]

    @strawberry.field
    def csv(root: Any) -> str:
        return analytics.as_csv(
            ["location", "category", "onHand", "unitsSold", "sellThrough", "coverDays"],
            [
                [_location_gid(f.row.location_id), f.row.category, f.row.on_hand, f.row.units_sold,
                 f.sell_through, f.cover_days]
                for f in root.rows
            ],
        )  # fmt: skip


@strawberry.type(name="LoyaltyPeriod", description="Points that moved in one period.")
class LoyaltyPeriodType:
    period: datetime.date
    earned: int
    spent: int
    reversed: int = strawberry.field(description="Taken back by returns.")
    refunded: int = strawberry.field(description="Given back (refunds, checkouts that did not go through).")


@strawberry.type(description="The points liability and the points earned and spent per period.")
class LoyaltyReport:
    outstanding_points: int = strawberry.field(description="Points members hold at the end of the range.")

    @strawberry.field(description="What the outstanding points are worth (a point pays a minor unit).")
    def outstanding_value(root: LoyaltyFigures) -> Money:
        return root.outstanding_value  # type: ignore[return-value]

    @strawberry.field
    def periods(root: LoyaltyFigures) -> list[LoyaltyPeriodType]:
        return root.periods  # type: ignore[return-value]

    @strawberry.field
    def csv(root: LoyaltyFigures) -> str:
        return analytics.as_csv(
            ["period", "earned", "spent", "reversed", "refunded"],
            [[p.period, p.earned, p.spent, p.reversed, p.refunded] for p in root.periods],
        )


@strawberry.type(description="A box of reports over one date range, of the caller's locations.")
class Analytics:
    since: datetime.date
    until: datetime.date

    @strawberry.field(description="The locations whose figures the reports show; null: every location.")
    async def locations(root: ReportRange, info: Info) -> list[Location] | None:
        if root.locations is None:
            return None
        found = await info.context.loaders.location_by_id.load_many(sorted(root.locations))
        return [loc for loc in found if loc is not None]

    @strawberry.field(description="Sales, orders, units and average order value.")
    async def sales(
        root: ReportRange,
        info: Info,
        group_by: list[SalesDimension] | None = None,
        period: ReportPeriod | None = None,
    ) -> SalesReport:
        dims = set(group_by or [])
        rows = await analytics.sales(
            info.context,
            root,
            SalesDimension.CHANNEL in dims,
            SalesDimension.LOCATION in dims,
            None if period is None else period.value,
        )
        return SalesReport(rows=rows)  # type: ignore[arg-type]

    @strawberry.field(description="Ship, click & collect, reserve in store, ship from store, till.")
    async def fulfillment_mix(root: ReportRange, info: Info) -> FulfillmentMixReport:
        return FulfillmentMixReport(rows=await analytics.fulfillment_mix(info.context, root))  # type: ignore[arg-type]

    @strawberry.field(description="Returns rate by channel of sale, and returns across channels.")
    async def returns(root: ReportRange, info: Info) -> ReturnsReport:
        return ReturnsReport(rows=await analytics.returns(info.context, root))  # type: ignore[arg-type]

    @strawberry.field(description="Sell-through and stock cover per location and category.")
    async def stock(root: ReportRange, info: Info) -> StockReport:
        return StockReport(rows=await analytics.stock(info.context, root))  # type: ignore[arg-type]

    @strawberry.field(
        description="Points outstanding and points earned and spent per period (analytics:all).",
        permission_classes=[IsHeadOfficeAnalyst],
    )
    async def loyalty(
        root: ReportRange, info: Info, period: ReportPeriod = ReportPeriod.WEEK
    ) -> LoyaltyReport:
        return await analytics.loyalty(info.context, root, period.value)  # type: ignore[return-value]


@strawberry.type
class AnalyticsQuery:
    @strawberry.field(
        description="Cross-channel reports over days `since` to `until` (both included; by default the "
        "30 days to today), for analysts: analytics:read (the caller's locations) or analytics:all.",
        permission_classes=[IsAnalyst],
    )
    async def analytics(
        self, info: Info, since: datetime.date | None = None, until: datetime.date | None = None
    ) -> Analytics:
        return analytics.report_range(info.context, since, until)  # type: ignore[return-value]
