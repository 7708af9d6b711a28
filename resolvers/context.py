"""What a use case may ask of the request it serves (the gateway's Context satisfies this)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from adapters.ports import Upstreams
    from resolvers.events import EventPublisher
    from resolvers.loaders import Loaders
    from resolvers.principal import Principal


@dataclass(frozen=True, slots=True)
class CommercePolicy:
    """Business settings that retailers tune, read once from the gateway's settings."""

    currency_code: str = "USD"
    max_page_size: int = 250
    default_page_size: int = 50
    default_radius_km: float = 50.0
    pickup_lead_time: timedelta = timedelta(hours=2)


class ResolverContext(Protocol):
    upstreams: Upstreams
    loaders: Loaders
    events: EventPublisher
    principal: Principal
    policy: CommercePolicy

    def now(self) -> datetime: ...
