"""Behavioral triggers: marketing's webhook endpoints (Standard Webhooks, each with its own
`whsec_` secret and event filter) and members' stock watches (`stock.back_in_stock`)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from adapters.ports.marketing import WebhookEndpointRecord
from resolvers import triggers
from resolvers.pagination import PageArgs
from resolvers.triggers import StockWatch as StockWatchRecord
from resolvers.user_errors import UserError as UserErrorRecord
from schema.common import Node, PageInfo, UserError
from schema.ids import decode_id, to_global_id
from schema.permissions import CanManageMarketing, IsMember, check_marketing


@strawberry.enum(description="What a marketing tool subscribes to (its `type` in the webhook body).")
class MarketingEventType(Enum):
    CART_ABANDONED = "cart.abandoned"  # a member's cart idle with items, not checked out
    STOCK_BACK_IN_STOCK = "stock.back_in_stock"  # a variant a member watches is back at the store
    PICKUP_READY = "pickup.ready"
    RESERVE_EXPIRING = "reserve.expiring"  # a reserve-in-store hold ends soon
    TIER_CHANGED = "tier.changed"


@strawberry.type(description="Where behavioral triggers are delivered, signed as Standard Webhooks.")
class WebhookEndpoint(Node):
    record = WebhookEndpointRecord

    url: str
    active: bool

    @strawberry.field
    def id(root: WebhookEndpointRecord) -> strawberry.ID:
        return strawberry.ID(to_global_id("WebhookEndpoint", root.id))

    @strawberry.field(description="The events it takes; empty: all of them.")
    def event_types(root: WebhookEndpointRecord) -> list[MarketingEventType]:
        return [MarketingEventType(t) for t in root.event_types]

    @classmethod
    async def resolve_nodes(cls, info: Info, keys: list[int]) -> list[WebhookEndpointRecord | None]:
        check_marketing(info)
        return await triggers.endpoints_by_ids(info.context, keys)


@strawberry.input
class WebhookEndpointInput:
    url: str
    event_types: list[MarketingEventType] | None = None
    active: bool = True


@strawberry.type
class WebhookEndpointEdge:
    cursor: str
    node: WebhookEndpoint


@strawberry.type
class WebhookEndpointConnection:
    edges: list[WebhookEndpointEdge]
    nodes: list[WebhookEndpoint]
    page_info: PageInfo


@strawberry.type
class WebhookEndpointCreatePayload:
    endpoint: WebhookEndpoint | None
    secret: str | None = strawberry.field(
        description="The endpoint's signing secret (`whsec_...`), shown only here: the receiver "
        "verifies `webhook-signature` with it."
    )
    user_errors: list[UserError]


@strawberry.type
class WebhookEndpointPayload:
    endpoint: WebhookEndpoint | None
    user_errors: list[UserError]


@strawberry.type
class WebhookEndpointDeletePayload:
    deleted_endpoint_id: strawberry.ID | None
    user_errors: list[UserError]


@strawberry.type(
    description="A variant a member watches at a store: `stock.back_in_stock` fires once it is there."
)
class StockWatch:
    since: datetime
    notified_at: datetime | None

    @strawberry.field
    def variant_id(root: StockWatchRecord) -> strawberry.ID:
        return strawberry.ID(to_global_id("ProductVariant", root.variant_id))

    @strawberry.field
    def location_id(root: StockWatchRecord) -> strawberry.ID:
        return strawberry.ID(to_global_id("Location", root.location_id))


@strawberry.type
class StockWatchPayload:
    watches: list[StockWatch]
    user_errors: list[UserError]


def _types(input: WebhookEndpointInput) -> list[str]:
    return [t.value for t in input.event_types or ()]


@strawberry.type
class TriggerQuery:
    @strawberry.field(
        permission_classes=[CanManageMarketing], description="Marketing: the webhook endpoints."
    )
    async def webhook_endpoints(
        self, info: Info, first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
    ) -> WebhookEndpointConnection:  # fmt: skip
        args = PageArgs(first=first, after=after, last=last, before=before)
        return await triggers.endpoint_list(info.context, args)  # type: ignore[return-value]


async def _watch(info: Info, variant_id: strawberry.ID, location_id: strawberry.ID, watching: bool) -> Any:
    variant = decode_id(variant_id, "ProductVariant", "variantId")
    location = decode_id(location_id, "Location", "locationId")
    errors = await triggers.change_watch(info.context, variant, location, watching)
    watches = await triggers.watches_of(info.context, info.context.principal.member_id)
    return StockWatchPayload(watches=watches, user_errors=errors)  # type: ignore[arg-type]


@strawberry.type
class TriggerMutation:
    @strawberry.mutation(
        permission_classes=[CanManageMarketing],
        description="Marketing: a new endpoint, with its own signing secret (shown once).",
    )
    async def webhook_endpoint_create(
        self, info: Info, input: WebhookEndpointInput
    ) -> WebhookEndpointCreatePayload:
        result = await triggers.save_endpoint(info.context, None, input.url, _types(input), input.active)
        secret = None if result.endpoint is None else result.endpoint.secret
        return WebhookEndpointCreatePayload(
            endpoint=result.endpoint, secret=secret, user_errors=result.user_errors
        )  # type: ignore[arg-type]

    @strawberry.mutation(
        permission_classes=[CanManageMarketing], description="Marketing: an endpoint's URL, events or pause."
    )
    async def webhook_endpoint_update(
        self, info: Info, id: strawberry.ID, input: WebhookEndpointInput
    ) -> WebhookEndpointPayload:
        key = decode_id(id, "WebhookEndpoint")
        result = await triggers.save_endpoint(info.context, key, input.url, _types(input), input.active)
        return WebhookEndpointPayload(endpoint=result.endpoint, user_errors=result.user_errors)  # type: ignore[arg-type]

    @strawberry.mutation(
        permission_classes=[CanManageMarketing], description="Marketing: an endpoint removed."
    )
    async def webhook_endpoint_delete(self, info: Info, id: strawberry.ID) -> WebhookEndpointDeletePayload:
        errors: list[UserErrorRecord] = await triggers.delete_endpoint(
            info.context, decode_id(id, "WebhookEndpoint")
        )
        return WebhookEndpointDeletePayload(deleted_endpoint_id=None if errors else id, user_errors=errors)  # type: ignore[arg-type]

    @strawberry.mutation(
        permission_classes=[IsMember],
        description="The signed-in member watches a variant at a store: told once (with "
        "marketing consent) when it is back there.",
    )
    async def stock_watch_create(
        self, info: Info, variant_id: strawberry.ID, location_id: strawberry.ID
    ) -> StockWatchPayload:
        return await _watch(info, variant_id, location_id, True)  # type: ignore[no-any-return]

    @strawberry.mutation(permission_classes=[IsMember], description="The signed-in member stops watching.")
    async def stock_watch_delete(
        self, info: Info, variant_id: strawberry.ID, location_id: strawberry.ID
    ) -> StockWatchPayload:
        return await _watch(info, variant_id, location_id, False)  # type: ignore[no-any-return]


__all__ = ["TriggerMutation", "TriggerQuery", "WebhookEndpoint"]
