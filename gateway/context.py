"""The per-request context every resolver receives: who calls, and fresh loaders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from adapters.ports.upstreams import Upstreams
from gateway.events.bus import InProcessEventBus
from resolvers.context import CommercePolicy, LookupThrottle, SignInThrottle
from resolvers.loaders import Loaders
from resolvers.prices import PriceContext
from resolvers.principal import Principal


@dataclass(slots=True)
class Context:
    request_id: str
    principal: Principal
    upstreams: Upstreams
    loaders: Loaders
    events: InProcessEventBus
    policy: CommercePolicy
    request: Any = None
    response: Any = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # Signs a member's token (memberLogin); None when the gateway holds no JWT secret.
    issue_member_token: Callable[[str], str] | None = None
    client_address: str | None = None  # as the server resolved it (trusted proxies only)
    sign_in_throttle: SignInThrottle | None = None
    gift_card_lookups: LookupThrottle | None = None  # giftCardBalance's per-caller limit
    connection_params: dict[str, Any] | None = None  # a websocket's connection_init payload
    # Ends this connection because its client fell too far behind (a websocket's close code, the
    # end of an SSE stream); None where the transport has no such way (the error is pushed instead).
    too_slow: Callable[[], None] | None = None
    # How many subscriptions this one execution serves (a shared group's, gateway/transport/fanout.py).
    audience: Callable[[], int] | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # Whom the catalog's prices are for, as the operation's @inContext says (gateway/pricing.py);
    # None: the catalog's own prices, as without price lists.
    pricing: PriceContext | None = None
    priced_operation: Any = None  # the operation `pricing` was read from (gateway/pricing.py)

    def now(self) -> datetime:
        return self.clock()
