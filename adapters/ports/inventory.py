"""Inventory ports: the stores and warehouses, their stock levels, and adjustments to stock.

Stock a cart holds or an order allocates is written by the cart and order ports, in their own
transactions; this port reads levels and applies counts, receipts, damage, transfers, safety stock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from adapters.records import (
    InventoryAdjustment,
    InventoryLevelRecord,
    InventoryReason,
    LocationRecord,
    SafetyStockChange,
    StockChange,
)


@dataclass(frozen=True, slots=True)
class StockAdjusted:
    adjustments: list[InventoryAdjustment]
    levels: list[InventoryLevelRecord]  # the levels after the change, one per (variant, location)


class LocationDirectory(Protocol):
    async def all_locations(self) -> list[LocationRecord]: ...

    async def locations_by_ids(self, ids: Sequence[int]) -> list[LocationRecord]: ...


class InventorySource(Protocol):
    async def levels_by_variant_ids(self, variant_ids: Sequence[int]) -> list[InventoryLevelRecord]: ...

    async def adjust(
        self,
        changes: Sequence[StockChange],
        reason: InventoryReason,
        reference: str | None,
        actor: str,
    ) -> StockAdjusted:
        """Apply every change in one transaction, or none: raise `StockRejected` for a bad one."""
        ...

    async def set_safety_stock(self, change: SafetyStockChange, actor: str) -> InventoryLevelRecord:
        """Raise `StockRejected` (index 0) for an unknown variant or location."""
        ...

    async def ping(self) -> None: ...


class StockRejected(Exception):
    """An adjustment the stock records refuse (unknown variant/location, negative on hand)."""

    def __init__(self, index: int, code: str, message: str) -> None:
        super().__init__(message)
        self.index = index
        self.code = code
        self.message = message
