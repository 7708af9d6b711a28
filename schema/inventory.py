"""Stock by location, availability near a shopper, and stock adjustments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from adapters import records
from adapters.records import InventoryLevelRecord, SafetyStockChange, StockChange
from resolvers import catalog, inventory, locations
from resolvers.inventory import InventoryAdjustResult
from schema.batch import LOCATIONS, STOCK, batch, one
from schema.common import DateTime, UserError
from schema.ids import decode_id
from schema.locations import Location
from schema.permissions import CanAdjustStock, CanSetSafetyStock

if TYPE_CHECKING:
    from schema.catalog import ProductVariant

ProductVariantRef = Annotated["ProductVariant", strawberry.lazy("schema.catalog")]
InventoryReason = strawberry.enum(records.InventoryReason)


async def _variants(ctx: Any, levels: list[InventoryLevelRecord]) -> list[Any]:
    return await catalog.variants_by_ids(ctx, [lv.variant_id for lv in levels])


async def _locations(ctx: Any, levels: list[InventoryLevelRecord]) -> list[Any]:
    return await locations.locations_of_levels(ctx, levels)


@strawberry.type
class InventoryLevel:
    cache_topics = STOCK

    on_hand: int
    reserved: int
    available: int = strawberry.field(
        description="What can be promised online: onHand - reserved - safetyStock, never below zero."
    )
    safety_stock: int = strawberry.field(
        description="Units kept out of online availability at this location (still sold at the till)."
    )
    updated_at: DateTime

    @strawberry.field(metadata=batch(_variants))
    async def variant(root: InventoryLevelRecord, info: Info) -> ProductVariantRef:
        return await one(_variants, info, root)

    @strawberry.field(metadata=batch(_locations))
    async def location(root: InventoryLevelRecord, info: Info) -> Location:
        return await one(_locations, info, root)


@strawberry.type
class StoreAvailability:
    cache_topics = STOCK | LOCATIONS

    location: Location
    available: int
    distance_km: float | None
    pickup_ready_by: DateTime | None = strawberry.field(
        description="When an order placed now could be collected; null when it cannot be."
    )


@strawberry.input(description="Exactly one of `delta` (receipts, damage) or `onHand` (a count).")
class InventoryChangeInput:
    variant_id: strawberry.ID
    location_id: strawberry.ID
    delta: int | None = None
    on_hand: int | None = None


@strawberry.input
class InventoryAdjustInput:
    reason: InventoryReason  # type: ignore[valid-type]
    reference: str | None = strawberry.field(
        default=None, description="The document behind it: count sheet, ASN, RFID session."
    )
    changes: list[InventoryChangeInput]


@strawberry.type
class InventoryAdjustPayload:
    inventory_levels: list[InventoryLevel] = strawberry.field(name="inventoryLevels")
    user_errors: list[UserError]


@strawberry.input(description="How many units of a variant a location keeps out of online availability.")
class InventorySafetyStockInput:
    variant_id: strawberry.ID
    location_id: strawberry.ID
    quantity: int


@strawberry.type
class InventorySafetyStockSetPayload:
    inventory_level: InventoryLevel | None
    user_errors: list[UserError]


@strawberry.type
class InventoryMutation:
    @strawberry.mutation(
        description="Apply counts, receipts or corrections at locations; all lines or none.",
        permission_classes=[CanAdjustStock],
    )
    async def inventory_adjust(self, info: Info, input: InventoryAdjustInput) -> InventoryAdjustPayload:
        changes = [
            StockChange(
                variant_id=decode_id(c.variant_id, "ProductVariant", "variantId"),
                location_id=decode_id(c.location_id, "Location", "locationId"),
                delta=c.delta,
                on_hand=c.on_hand,
            )
            for c in input.changes
        ]
        result: InventoryAdjustResult = await inventory.adjust_inventory(
            info.context, changes, input.reason, input.reference
        )
        return InventoryAdjustPayload(
            inventory_levels=result.levels,  # type: ignore[arg-type]
            user_errors=result.user_errors,  # type: ignore[arg-type]
        )

    @strawberry.mutation(
        description="Keep units of a variant at a location out of online availability (the "
        "last ones on the shelf); they are still sold at the till. Staff of that location.",
        permission_classes=[CanSetSafetyStock],
    )
    async def inventory_safety_stock_set(
        self, info: Info, input: InventorySafetyStockInput
    ) -> InventorySafetyStockSetPayload:
        change = SafetyStockChange(
            variant_id=decode_id(input.variant_id, "ProductVariant", "variantId"),
            location_id=decode_id(input.location_id, "Location", "locationId"),
            quantity=input.quantity,
        )
        result = await inventory.set_safety_stock(info.context, change)
        return InventorySafetyStockSetPayload(
            inventory_level=result.level,  # type: ignore[arg-type]
            user_errors=result.user_errors,  # type: ignore[arg-type]
        )
