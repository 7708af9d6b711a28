"""Customer lookup for staff: find members by email, phone or loyalty card number (the member
number printed on the card), as support sees them. Who may search, and the audit of each member
found, are declared on the field (schema/customer_lookup.py)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from adapters.ports.members import MembersByPhone
from adapters.records import MemberRecord
from resolvers.errors import BadUserInput, UpstreamUnavailable
from resolvers.support import SupportView

if TYPE_CHECKING:
    from resolvers.context import ResolverContext

DEFAULT_MATCHES, MAX_MATCHES = 10, 20
MAX_QUERY = 320
# Fewer digits than this is not a phone number: too many members would match.
MIN_PHONE_DIGITS = 6
_PHONE = re.compile(r"^\+?[\d\s().\-/]+$")


def _first(first: int | None) -> int:
    if first is None:
        return DEFAULT_MATCHES
    if not 1 <= first <= MAX_MATCHES:
        raise BadUserInput(f"`first` must be 1 to {MAX_MATCHES}", field="first")
    return first


async def search(
    ctx: ResolverContext, query: str, first: int | None, card_key: str | None = None
) -> list[SupportView]:
    """Members matching `query`: an email (whole, any case), a phone number (its digits; the
    national form finds the international one), or a card's member number (`card_key`, the
    number as the schema read it, e.g. from a global id). Exact matches only: no prefix search
    of personal data."""
    limit = _first(first)
    text = query.strip()
    if not text or len(text) > MAX_QUERY:
        raise BadUserInput(f"`query` must have 1 to {MAX_QUERY} characters", field="query")
    directory = ctx.upstreams.members
    if directory is None:
        raise UpstreamUnavailable("no member directory is configured")
    found: list[MemberRecord] = []
    if "@" in text:
        found += await directory.members_by_emails([text.lower()])
    else:
        found += await directory.members_by_keys([card_key or text])
        digits = re.sub(r"\D", "", text)
        if _PHONE.match(text) and len(digits) >= MIN_PHONE_DIGITS and isinstance(directory, MembersByPhone):
            found += await directory.members_by_phone(digits, limit)
    unique = sorted({m.key: m for m in found}.values(), key=lambda m: (m.last_name, m.first_name, m.key))
    return [SupportView(m) for m in unique[:limit]]
