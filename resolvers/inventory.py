"""Inventory use cases: stock by location, availability near a shopper, and adjustments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from adapters.ports.inventory import StockRejected
from adapters.records import (
    GeoPoint,
    InventoryLevelRecord,
    InventoryReason,
    LocationKind,
    LocationRecord,
    SafetyStockChange,
    StockChange,
)
from resolvers import catalog
from resolvers.errors import BadUserInput
from resolvers.events import StockChanged
from resolvers.geo import checked_point, checked_radius, distance_km
from resolvers.pickup import pickup_ready_by
from resolvers.user_errors import UserError

if TYPE_CHECKING:
    from resolvers.context import ResolverContext

MAX_ADJUSTMENT_LINES = 250
MAX_REFERENCE_LENGTH = 255
MAX_QUANTITY = 2**31 - 1  # what a stock column holds


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


@dataclass(frozen=True, slots=True)
class SafetyStockResult:
    level: InventoryLevelRecord | None
    user_errors: list[UserError]


async def levels_of_variants(
    ctx: ResolverContext, variant_ids: list[int], location_ids: list[int] | None = None
) -> list[list[InventoryLevelRecord]]:
    levels = await ctx.loaders.inventory_levels_by_variant_id.load_many(variant_ids)
    if location_ids is None:
        return levels
    wanted = set(location_ids)
    return [[lv for lv in per_variant if lv.location_id in wanted] for per_variant in levels]


async def levels_of(
    ctx: ResolverContext, variant_id: int, location_ids: list[int] | None = None
) -> list[InventoryLevelRecord]:
    return (await levels_of_variants(ctx, [variant_id], location_ids))[0]


async def quantities_available(ctx: ResolverContext, variant_ids: list[int]) -> list[int]:
    levels = await levels_of_variants(ctx, variant_ids)
    return [sum(lv.available for lv in per_variant) for per_variant in levels]


async def products_available_for_sale(ctx: ResolverContext, product_ids: list[int]) -> list[bool]:
    variants = await catalog.variants_of_products(ctx, product_ids)
    quantities = await quantities_available(ctx, [v.id for vs in variants for v in vs])
    sellable = iter(q > 0 for q in quantities)
    return [any([next(sellable) for _ in vs]) for vs in variants]


async def store_availability_of_variants(
    ctx: ResolverContext,
    variant_ids: list[int],
    *,
    near: GeoPoint,
    radius_km: float | None = None,
    first: int = 5,
    in_stock_only: bool = False,
) -> list[list[StoreAvailability]]:
    """Stores near a point with each variant's stock there, nearest first."""
    near = checked_point(near)
    radius = checked_radius(radius_km, ctx.policy.default_radius_km)
    if not 0 <= first <= ctx.policy.max_page_size:
        raise BadUserInput(f"`first` must be between 0 and {ctx.policy.max_page_size}", field="first")
    # Distances and pickup times depend on the store only: computed once for every variant.
    stores = sorted(
        (d, loc.id, loc)
        for loc in await ctx.loaders.all_locations.load()
        if loc.kind is LocationKind.STORE and (d := distance_km(near, loc.geo)) <= radius
    )
    now, lead = ctx.now(), ctx.policy.pickup_lead_time
    ready_at = {loc.id: pickup_ready_by(loc, now, lead) for _, _, loc in stores}
    result = []
    for levels in await levels_of_variants(ctx, variant_ids):
        stock = {lv.location_id: lv.available for lv in levels}
        rows = []
        for distance, _, loc in stores:
            available = stock.get(loc.id, 0)
            if in_stock_only and available <= 0:
                continue
            ready = ready_at[loc.id] if available > 0 else None
            rows.append(StoreAvailability(loc, available, round(distance, 3), ready))
            if len(rows) == first:
                break
        result.append(rows)
    return result


def _validate(changes: list[StockChange], reference: str | None) -> list[UserError]:
    errors = []
    if not changes:
        errors.append(UserError(["input", "changes"], "give at least one change", "INVALID"))
    if len(changes) > MAX_ADJUSTMENT_LINES:
        raise BadUserInput(f"at most {MAX_ADJUSTMENT_LINES} changes per adjustment", field="changes")
    if reference is not None and len(reference) > MAX_REFERENCE_LENGTH:
        errors.append(
            UserError(["input", "reference"], f"at most {MAX_REFERENCE_LENGTH} characters", "INVALID")
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
        adjusted = await ctx.upstreams.inventory.adjust(changes, reason, reference, ctx.principal.subject)
    except StockRejected as rejected:
        path = ["input", "changes", str(rejected.index)]
        return InventoryAdjustResult([], [UserError(path, rejected.message, rejected.code)])
    await stock_moved(ctx, adjusted.levels, reason.value)
    return InventoryAdjustResult(adjusted.levels, [])


async def set_safety_stock(ctx: ResolverContext, change: SafetyStockChange) -> SafetyStockResult:
    """Keep units of a variant at a location out of online availability (not out of the till)."""
    if not 0 <= change.quantity <= MAX_QUANTITY:
        message = f"safety stock is between 0 and {MAX_QUANTITY}"
        return SafetyStockResult(None, [UserError(["input", "quantity"], message, "INVALID")])
    try:
        level = await ctx.upstreams.inventory.set_safety_stock(change, ctx.principal.subject)
    except StockRejected as rejected:
        field = "variantId" if rejected.code == "VARIANT_NOT_FOUND" else "locationId"
        return SafetyStockResult(None, [UserError(["input", field], rejected.message, rejected.code)])
    await stock_moved(ctx, [level], "SAFETY_STOCK")
    return SafetyStockResult(level, [])


async def stock_moved(ctx: ResolverContext, levels: list[InventoryLevelRecord], reason: str) -> None:
    """After a committed change: forget cached stock and tell the bus about each level."""
    for level in levels:
        ctx.loaders.inventory_levels_by_variant_id.clear(level.variant_id)
        await ctx.events.publish(StockChanged.of(level, reason))
