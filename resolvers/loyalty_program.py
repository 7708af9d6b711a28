"""The loyalty decisions a retailer changes: how fast points are earned and what the tiers are."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from adapters.records import minor_units


@dataclass(frozen=True, slots=True)
class LoyaltyProgram:
    points_per_unit: int = 1  # per whole currency unit spent
    # (tier, rolling spend in whole currency units from which it applies), highest first.
    tiers: tuple[tuple[str, int], ...] = (("GOLD", 2000), ("SILVER", 500))
    base_tier: str = "MEMBER"
    window: timedelta = field(default=timedelta(days=365))

    def points_for(self, minor: int, currency_code: str) -> int:
        return max(minor, 0) * self.points_per_unit // 10 ** minor_units(currency_code)

    def tier_for(self, spend_minor: int, currency_code: str) -> str:
        units = spend_minor // 10 ** minor_units(currency_code)
        return next((name for name, floor in self.tiers if units >= floor), self.base_tier)
