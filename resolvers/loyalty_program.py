"""The loyalty decisions a retailer changes: how fast points are earned and what the tiers are."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from adapters.records import minor_units


@dataclass(frozen=True, slots=True)
class LoyaltyProgram:
    """Points and tier spend are counted in the shop's currency (`currency`). An order in
    another currency counts at the retailer's own rate for it (`rates`: shop-currency units per
    unit of that currency, GATEWAY_LOYALTY_CURRENCY_RATES), rounded down; with no rate it earns
    nothing and adds nothing to the tier: an exchange rate is never guessed."""

    points_per_unit: int = 1  # per whole currency unit spent
    # (tier, rolling spend in whole currency units from which it applies), highest first.
    tiers: tuple[tuple[str, int], ...] = (("GOLD", 2000), ("SILVER", 500))
    base_tier: str = "MEMBER"
    window: timedelta = field(default=timedelta(days=365))
    currency: str = "USD"
    rates: tuple[tuple[str, Decimal], ...] = ()

    def shop_minor(self, minor: int, currency_code: str) -> int:
        """`minor` of `currency_code` as minor units of the shop's currency, for loyalty."""
        if currency_code == self.currency:
            return minor
        rate = dict(self.rates).get(currency_code)
        if rate is None:
            return 0
        scale = Decimal(10) ** (minor_units(self.currency) - minor_units(currency_code))
        value = Decimal(minor) * Decimal(rate) * scale
        return int(value.to_integral_value(ROUND_FLOOR if value >= 0 else ROUND_CEILING))

    def points_for(self, minor: int, currency_code: str) -> int:
        shop = self.shop_minor(minor, currency_code)
        return max(shop, 0) * self.points_per_unit // 10 ** minor_units(self.currency)

    def tier_for(self, spend_minor: int, currency_code: str) -> str:
        units = spend_minor // 10 ** minor_units(currency_code)
        return next((name for name, floor in self.tiers if units >= floor), self.base_tier)
