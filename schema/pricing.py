"""`@inContext`: the operation says where its caller shops, and the catalog's prices answer there."""

from __future__ import annotations

import strawberry
from strawberry.directive import DirectiveLocation

from schema.common import Channel, CurrencyCode

DESCRIPTION = (
    "Where the caller shops: the catalog's `price`, `compareAtPrice` and `priceRange` answer in "
    "this context (the signed-in member's tier applies too). The currency is `currency`, else the "
    "market of `country` (ISO 3166-1 alpha-2), else that of the store `location`'s country, else "
    "the shop's. A list naming the store and the tier beats one naming the store, which beats one "
    "naming the tier, then the channel, then the market default; ties go to the latest start. "
    "Without it prices are the catalog's own. A cart is always priced in its own context."
)


@strawberry.directive(
    locations=[DirectiveLocation.QUERY, DirectiveLocation.MUTATION, DirectiveLocation.SUBSCRIPTION],
    name="inContext",
    description=DESCRIPTION,
)
def in_context(
    channel: Channel | None = None,  # type: ignore[valid-type]
    country: str | None = None,
    currency: CurrencyCode | None = None,
    location: strawberry.ID | None = None,
) -> None:
    """Read by the gateway before the operation runs (gateway/pricing.py), never per field."""


__all__ = ["in_context"]
