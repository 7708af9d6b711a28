"""Customer lookup: `supportMemberSearch`, staff finding a member by email, phone or loyalty card
number (the store console's Customer screen, a support desk). Personal: no cache topics.

Like `supportMember`, every member it answers with is a read of personal data by staff: each
gets an audit entry (who, when, which member, which fields were selected), written by a field
extension once the search succeeded. The extension keeps the field on the standard executor
(the compiled path does not apply extensions): one search, one audit entry per member found.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.types import Info

from resolvers import customer_lookup, support
from resolvers.errors import BadUserInput
from schema.ids import from_global_id
from schema.permissions import IsSupport
from schema.support import SupportMember, _selected


class AuditedMatches(FieldExtension):
    """One audit entry (READ, the caller, the member, the fields selected) per member found."""

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        raise NotImplementedError("an audited field is async")

    async def resolve_async(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        found = await next_(source, info, **kwargs)
        fields = sorted(set(_selected(info.selected_fields[0].selections)))
        for view in found:
            await support.record_read(info.context, view.key, fields)
        return found


def _card_key(text: str) -> str | None:
    """A member's global id (as the app shows it on the card's QR code) read as their number."""
    try:
        type_name, key = from_global_id(text.strip(), "query")
    except BadUserInput:
        return None
    return key if type_name == "Member" else None


@strawberry.type
class CustomerLookupQuery:
    @strawberry.field(
        description="Members found by email (the whole address), phone number (its digits: the national "
        "form finds the international one) or loyalty card number (the member number on the card, or "
        "the member's id): support:read. Each member answered is audited like a `supportMember` read.",
        permission_classes=[IsSupport],
        extensions=[AuditedMatches()],
    )
    async def support_member_search(
        self, info: Info, query: str, first: int | None = None
    ) -> list[SupportMember]:
        return await customer_lookup.search(info.context, query, first, _card_key(query))  # type: ignore[return-value]
