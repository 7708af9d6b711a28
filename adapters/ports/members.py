"""Member ports: customers as the CRM keeps them, and what the gateway keeps beside them.

That is the profile fields and consents the gateway keeps for a CRM's members, the passwords and
sign-ins of members who sign in at the gateway, and each side of a data export and an erasure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from adapters.records import MemberChanges, MemberDraft, MemberRecord


@runtime_checkable
class MembersByPhone(Protocol):
    """A member directory that can find members by phone (the gateway's own can; a CRM adapter
    may)."""

    async def members_by_phone(self, digits: str, limit: int) -> list[MemberRecord]:
        """Members whose phone's digits end with `digits`, at most `limit`."""
        ...


class MemberDirectory(Protocol):
    """Customers as the CRM keeps them (Tryton parties, SAP business partners)."""

    async def members_by_keys(self, keys: Sequence[str]) -> list[MemberRecord]: ...

    async def members_by_emails(self, emails: Sequence[str]) -> list[MemberRecord]: ...

    async def upsert_member(self, member: MemberDraft) -> MemberRecord:
        """Update the member with this email, or create one."""
        ...

    async def update_member(self, key: str, changes: MemberChanges, now: datetime) -> MemberRecord | None:
        """The member's profile edited (None: no such member)."""
        ...


class GatewayProfiles(Protocol):
    """Profile fields the gateway keeps for members a CRM holds (adapters/profiles.py)."""

    async def profiles_of(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Member key -> the gateway-kept fields (`phone`, `preferred_location_id`,
        `marketing_consent`) of the members that have a row."""
        ...

    async def save_profile(self, key: str, values: Mapping[str, Any], now: datetime) -> None: ...


class MemberPrivacy(Protocol):
    """A member directory's side of a data export and an erasure (optional methods of a
    `MemberDirectory`: a CRM adapter without them is reported as not erasing, and its export is
    its member record)."""

    async def export_member(self, key: str) -> dict[str, Any] | None:
        """Everything the directory holds about the member, JSON-ready (None: unknown member)."""
        ...

    async def erase_member(self, key: str, now: datetime) -> bool | None:
        """Personal fields removed or anonymized, the key kept (orders name it). False: unknown
        member; None: this directory cannot erase."""
        ...


class MemberData(Protocol):
    """What the gateway keeps about a member beside the directory: consent per channel, the
    member's link to their carts (adapters/store/privacy.py)."""

    async def consents_of(self, keys: Sequence[str]) -> dict[str, dict[str, tuple[bool, datetime]]]:
        """Member key -> channel (EMAIL, SMS, PUSH) -> (granted, when), channels answered only."""
        ...

    async def save_consents(self, key: str, granted: Mapping[str, bool], now: datetime) -> None: ...

    async def erase_member_data(self, key: str, now: datetime) -> dict[str, int]:
        """Consents and gateway-kept profile fields deleted, carts let go; rows changed by kind."""
        ...


class MemberCredentials(Protocol):
    """Passwords of members who sign in at the gateway itself (not through an identity provider)."""

    async def password_hash_of(self, email: str) -> tuple[str, str] | None:
        """(member key, argon2 hash) of the member with this email, if they have a password."""
        ...


class SignInLog(Protocol):
    async def record(self, member_id: str, channel: str, at: datetime) -> None: ...
