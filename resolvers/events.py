"""Domain events raised by the use cases after their change is committed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class StockChanged:
    variant_id: int
    location_id: int
    on_hand: int
    reserved: int
    available: int
    reason: str
    occurred_at: datetime

    topic = "stock"


@dataclass(frozen=True, slots=True)
class CatalogChanged:
    """Products whose catalog data (titles, variants, prices) changed, e.g. from an ERP sync:
    whatever keeps copies of them (caches, search) forgets them."""

    product_ids: tuple[int, ...]
    reason: str
    occurred_at: datetime

    topic = "catalog"


class EventPublisher(Protocol):
    async def publish(self, event: StockChanged | CatalogChanged) -> None: ...
