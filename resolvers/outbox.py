"""The outbox as back-office staff run it: messages the ERP would not take (dead letters), and
their replay once the cause is fixed (a product created in the ERP, an address added)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from resolvers.errors import BadUserInput
from resolvers.user_errors import UserError

if TYPE_CHECKING:
    from adapters.records import OutboxMessage
    from resolvers.context import ResolverContext

MAX_IDS = 100


@dataclass(frozen=True, slots=True)
class ReplayResult:
    replayed: list[OutboxMessage]
    user_errors: list[UserError]


async def dead_letters(ctx: ResolverContext, first: int) -> list[OutboxMessage]:
    if not 0 <= first <= ctx.policy.max_page_size:
        raise BadUserInput(f"`first` must be between 0 and {ctx.policy.max_page_size}", field="first")
    outbox = ctx.upstreams.outbox
    return [] if outbox is None or first == 0 else await outbox.dead_letters(first)


async def replay(ctx: ResolverContext, ids: list[int]) -> ReplayResult:
    if len(ids) > MAX_IDS:
        raise BadUserInput(f"replay at most {MAX_IDS} messages at once", field="ids")
    outbox = ctx.upstreams.outbox
    done = [] if outbox is None or not ids else await outbox.replay(ids)
    errors = [
        UserError(["ids", str(index)], "no dead letter has this id", "MESSAGE_NOT_FOUND")
        for index, message_id in enumerate(ids)
        if message_id not in done
    ]
    replayed = [] if outbox is None or not done else await outbox.messages(done)
    return ReplayResult(sorted(replayed, key=lambda m: m.id), errors)
