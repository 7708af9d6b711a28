"""Privacy: marketing consent per channel (the member's to change), and a member's data export
and erasure (the member's own, or the back office's with members:privacy). Personal: no cache
topics."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from resolvers import privacy
from resolvers.privacy import Consent, SystemOutcome
from resolvers.user_errors import UserError as UserErrorRecord
from schema.common import DateTime, UserError
from schema.ids import EXTERNAL_KEY, decode_str_id, to_global_id
from schema.permissions import CanHandlePrivacyRequest, IsMember


@strawberry.enum(description="Where marketing may reach a member.")
class ConsentChannel(Enum):
    EMAIL = "EMAIL"
    SMS = "SMS"
    PUSH = "PUSH"  # the app's notifications


@strawberry.type(description="A member's answer for one channel.")
class MarketingConsent:
    granted: bool
    updated_at: DateTime | None = strawberry.field(
        description="When the member said so; null: never asked for this channel, which then "
        "follows `Member.marketingConsent`."
    )

    @strawberry.field
    def channel(root: Consent) -> ConsentChannel:
        return ConsentChannel(root.channel)


@strawberry.input
class MarketingConsentInput:
    channel: ConsentChannel
    granted: bool


@strawberry.type
class MemberConsentsUpdatePayload:
    consents: list[MarketingConsent]
    user_errors: list[UserError]


@strawberry.type
class MemberDataExportPayload:
    member_id: strawberry.ID | None
    data: JSON | None = strawberry.field(
        description="Everything the gateway and its systems of record hold about the member "
        "(`format` names the layout): profile, consents, orders with lines, fulfillments and "
        "returns, open carts, loyalty ledger."
    )
    user_errors: list[UserError]


@strawberry.enum
class ErasureOutcome(Enum):
    ERASED = "ERASED"
    NOT_SUPPORTED = "NOT_SUPPORTED"  # this system's adapter cannot erase: do it there by hand
    NOT_FOUND = "NOT_FOUND"  # this system holds no such member


@strawberry.type(description="What one system of record did with an erasure.")
class ErasedSystem:
    system: str = strawberry.field(
        description='"memberDirectory" (the CRM, or the gateway\'s own) or "gateway".'
    )

    @strawberry.field
    def outcome(root: SystemOutcome) -> ErasureOutcome:
        return ErasureOutcome(root.outcome)


@strawberry.type
class MemberErasePayload:
    member_id: strawberry.ID | None
    erased_at: DateTime | None
    systems: list[ErasedSystem]
    user_errors: list[UserError]


def _member_key(info: Info, member_id: strawberry.ID | None) -> str | None:
    if member_id is None:
        return info.context.principal.member_id  # type: ignore[no-any-return]
    return decode_str_id(member_id, "Member", EXTERNAL_KEY, "memberId")


def _no_member() -> list[Any]:
    return [UserErrorRecord(["memberId"], "no such member", "MEMBER_NOT_FOUND")]


@strawberry.type
class PrivacyMutation:
    @strawberry.mutation(
        permission_classes=[IsMember],
        description="The signed-in member's marketing consent, channel by channel; channels left "
        "out stay as they are.",
    )
    async def member_consents_update(
        self, info: Info, consents: list[MarketingConsentInput]
    ) -> MemberConsentsUpdatePayload:
        granted = {c.channel.value: c.granted for c in consents}
        result = await privacy.update_consents(info.context, granted)
        return MemberConsentsUpdatePayload(consents=result.consents, user_errors=result.user_errors)  # type: ignore[arg-type]

    @strawberry.mutation(
        permission_classes=[CanHandlePrivacyRequest],
        description="A member's data export as JSON: the signed-in member's own (no `memberId`), "
        "or any member's for staff and keys with members:privacy. Audited.",
    )
    async def member_data_export(
        self, info: Info, member_id: strawberry.ID | None = None
    ) -> MemberDataExportPayload:
        key = _member_key(info, member_id)
        document = None if key is None else await privacy.export_member_data(info.context, key)
        if key is None or document is None:
            return MemberDataExportPayload(member_id=None, data=None, user_errors=_no_member())
        gid = strawberry.ID(to_global_id("Member", key))
        return MemberDataExportPayload(member_id=gid, data={**document, "memberId": gid}, user_errors=[])

    @strawberry.mutation(
        permission_classes=[CanHandlePrivacyRequest],
        description="Erase a member: personal fields removed or anonymized in every system that "
        "holds them (the CRM through its adapter, the gateway's consents, profile fields and cart "
        "links); orders stay for accounting, under a key that now names nobody. The signed-in "
        "member's own (no `memberId`), or any member's for staff and keys with members:privacy. "
        "Audited.",
    )
    async def member_erase(self, info: Info, member_id: strawberry.ID | None = None) -> MemberErasePayload:
        key = _member_key(info, member_id)
        if key is None:
            return MemberErasePayload(member_id=None, erased_at=None, systems=[], user_errors=_no_member())
        result = await privacy.erase_member(info.context, key)
        gid = None if result.member_key is None else strawberry.ID(to_global_id("Member", result.member_key))
        return MemberErasePayload(
            member_id=gid,
            erased_at=result.erased_at,
            systems=result.systems,  # type: ignore[arg-type]
            user_errors=result.user_errors,  # type: ignore[arg-type]
        )


__all__ = ["MarketingConsent", "PrivacyMutation"]
