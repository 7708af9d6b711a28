"""The outbox for back-office staff: dead letters to the ERP, and their replay."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from adapters.commerce import order_number
from adapters.records import OutboxMessage as OutboxMessageRecord
from resolvers import outbox
from schema.common import UserError
from schema.ids import decode_id, to_global_id
from schema.permissions import CanRunOutbox


@strawberry.type(description="A message to an upstream (an order to the ERP) waiting in the outbox.")
class OutboxMessage:
    @strawberry.field
    def id(root: OutboxMessageRecord) -> strawberry.ID:
        return strawberry.ID(to_global_id("OutboxMessage", root.id))

    @strawberry.field(description='What it says: "order.push" is an order for the ERP.')
    def topic(root: OutboxMessageRecord) -> str:
        return root.topic

    @strawberry.field(description="The number of the order it is about, if any.")
    def order_number(root: OutboxMessageRecord) -> int | None:
        return None if root.order_id is None else order_number(root.order_id)

    @strawberry.field(description="Deliveries tried since it was written or last replayed.")
    def attempts(root: OutboxMessageRecord) -> int:
        return root.attempts

    @strawberry.field
    def created_at(root: OutboxMessageRecord) -> datetime:
        return root.created_at

    @strawberry.field(description="Why the last delivery failed, as the upstream said it.")
    def last_error(root: OutboxMessageRecord) -> str | None:
        return root.last_error

    @strawberry.field(description="When the gateway stopped trying: null once replayed.")
    def dead_at(root: OutboxMessageRecord) -> datetime | None:
        return root.dead_at


@strawberry.type
class OutboxReplayPayload:
    replayed: list[OutboxMessage]
    user_errors: list[UserError]


@strawberry.type
class OutboxQuery:
    @strawberry.field(
        description="Messages the ERP would not take (after GATEWAY_OUTBOX_MAX_ATTEMPTS tries, or "
        "at once when it said no), oldest first: back-office staff (the orders:write scope).",
        permission_classes=[CanRunOutbox],
    )
    async def outbox_dead_letters(
        self, info: Info, first: Annotated[int, strawberry.argument(description="At most 250.")] = 50
    ) -> list[OutboxMessage]:
        return await outbox.dead_letters(info.context, first)  # type: ignore[return-value]


@strawberry.type
class OutboxMutation:
    @strawberry.mutation(
        description="Try dead letters again, with a fresh count of attempts, once their cause is "
        "fixed (back-office staff: the orders:write scope). Delivery stays idempotent: an order "
        "the ERP already has is not created twice.",
        permission_classes=[CanRunOutbox],
    )
    async def outbox_replay(self, info: Info, ids: list[strawberry.ID]) -> OutboxReplayPayload:
        keys = [decode_id(message_id, "OutboxMessage", "ids") for message_id in ids]
        result = await outbox.replay(info.context, keys)
        return OutboxReplayPayload(
            replayed=result.replayed,  # type: ignore[arg-type]
            user_errors=result.user_errors,  # type: ignore[arg-type]
        )
