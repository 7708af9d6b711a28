"""Inventory use cases: stock by location, availability near a shopper, and adjustments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from adapters.ports import StockRejected
from adapters.records import (
    GeoPoint,
    InventoryLevelRecord,
    InventoryReason,
    LocationKind,
    LocationRecord,
    StockChange,
)
from resolvers.errors import BadUserInput
from resolvers.events import StockChanged
from resolvers.geo import checked_point, checked_radius, distance_km
from resolvers.pickup import pickup_ready_by
from resolvers.user_errors import UserError

if TYPE_CHECKING:
    from resolvers.context import ResolverContext

MAX_ADJUSTMENT_LINES = 250
MAX_REFERENCE_LENGTH = 255


@dataclass(frozen=True, slots=True)
class StoreAvailability:
    location: LocationRecord
    available: int
    distance_km: float | None
    pickup_ready_by: datetime | None


@dataclass(frozen=True, slots=True)
class InventoryAdjustResult:
    levels: list[InventoryLevelRecord]
    user_errors: list[UserError]


async def levels_of(
    ctx: ResolverContext, variant_id: int, location_ids: list[int] | None = None
) -> list[InventoryLevelRecord]:
    levels = await ctx.loaders.inventory_levels_by_variant_id.load(variant_id)
    if location_ids is None:
        return levels
    wanted = set(location_ids)
    return [level for level in levels if level.location_id in wanted]


async def quantity_available(ctx: ResolverContext, variant_id: int) -> int:
    return sum(level.available for level in await levels_of(ctx, variant_id))


async def product_available_for_sale(ctx: ResolverContext, variant_ids: list[int]) -> bool:
    for variant_id in variant_ids:
        if await quantity_available(ctx, variant_id) > 0:
            return True
    return False


async def store_availability(
    ctx: ResolverContext,
    variant_id: int,
    *,
    near: GeoPoint,
    radius_km: float | None = None,
    first: int = 5,
    in_stock_only: bool = False,
) -> list[StoreAvailability]:
    near = checked_point(near)
    radius = checked_radius(radius_km, ctx.policy.default_radius_km)
    if not 0 <= first <= ctx.policy.max_page_size:
        raise BadUserInput(
            f"`first` must be between 0 and {ctx.policy.max_page_size}", field="first"
        )
    locations = await ctx.loaders.all_locations.load()
    stock = {level.location_id: level.available for level in await levels_of(ctx, variant_id)}
    now = ctx.now()
    nearby: list[tuple[float, int, LocationRecord]] = []
    for loc in locations:
        if loc.kind is not LocationKind.STORE:
            continue
        distance = distance_km(near, loc.geo)
        if distance <= radius and (stock.get(loc.id, 0) > 0 or not in_stock_only):
            nearby.append((distance, loc.id, loc))
    nearby.sort(key=lambda t: (t[0], t[1]))
    result = []
    for distance, _, loc in nearby[:first]:
        available = stock.get(loc.id, 0)
        ready = pickup_ready_by(loc, now, ctx.policy.pickup_lead_time) if available > 0 else None
        result.append(StoreAvailability(loc, available, round(distance, 3), ready))
    return result


def _validate(changes: list[StockChange], reference: str | None) -> list[UserError]:
    errors = []
    if not changes:
        errors.append(UserError(["input", "changes"], "give at least one change", "INVALID"))
    if len(changes) > MAX_ADJUSTMENT_LINES:
        raise BadUserInput(
            f"at most {MAX_ADJUSTMENT_LINES} changes per adjustment", field="changes"
        )
    if reference is not None and len(reference) > MAX_REFERENCE_LENGTH:
        errors.append(
            UserError(
                ["input", "reference"], f"at most {MAX_REFERENCE_LENGTH} characters", "INVALID"
            )
        )
    for index, change in enumerate(changes):
        path = ["input", "changes", str(index)]
        if (change.delta is None) == (change.on_hand is None):
            errors.append(UserError(path, "give exactly one of `delta` or `onHand`", "INVALID"))
        elif change.on_hand is not None and change.on_hand < 0:
            errors.append(UserError([*path, "onHand"], "a count cannot be negative", "INVALID"))
    return errors


async def adjust_inventory(
    ctx: ResolverContext,
    changes: list[StockChange],
    reason: InventoryReason,
    reference: str | None = None,
) -> InventoryAdjustResult:
    """Apply a stock count, receipt or correction: all lines or none, each one in the ledger."""
    errors = _validate(changes, reference)
    if errors:
        return InventoryAdjustResult([], errors)
    try:
        adjusted = await ctx.upstreams.inventory.adjust(
            changes, reason, reference, ctx.principal.subject
        )
    except StockRejected as rejected:
        path = ["input", "changes", str(rejected.index)]
        return InventoryAdjustResult([], [UserError(path, rejected.message, rejected.code)])
    await stock_moved(ctx, adjusted.levels, reason.value)
    return InventoryAdjustResult(adjusted.levels, [])


async def stock_moved(
    ctx: ResolverContext, levels: list[InventoryLevelRecord], reason: str
) -> None:
    """After a committed change: forget cached stock and tell the bus about each level."""
    for level in levels:
        ctx.loaders.inventory_levels_by_variant_id.clear(level.variant_id)
        await ctx.events.publish(
            StockChanged(
                variant_id=level.variant_id,
                location_id=level.location_id,
                on_hand=level.on_hand,
                reserved=level.reserved,
                available=level.available,
                reason=reason,
                occurred_at=level.updated_at,
            )
        )
