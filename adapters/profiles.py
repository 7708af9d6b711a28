"""One member profile from two owners: the CRM behind the member directory, and the gateway.

A CRM adapter lists the `MemberChanges` fields it has a place for in `profile_fields` (Tryton:
names, phone, addresses). The gateway keeps the fields of `GATEWAY_FIELDS` that the CRM does
not list (the marketing consent and preferred store, and the phone when the CRM has none) in
its own `member_profiles` table, under the CRM's member key. Each field has exactly one owner,
so there is one source per field and no per-channel copy: `memberUpdate` writes each field
through to its owner, every read joins the two, and every channel reads the same profile.
Fields neither can hold are read-only (`writable_fields`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from adapters.ports.members import GatewayProfiles, MemberDirectory
from adapters.records import MemberChanges, MemberDraft, MemberRecord

GATEWAY_FIELDS = ("phone", "preferred_location_id", "marketing_consent")


class ProfileOwners:
    """A `MemberDirectory` over a CRM's directory, adding the gateway-owned fields."""

    def __init__(self, crm: MemberDirectory, profiles: GatewayProfiles) -> None:
        self.crm = crm
        self.profiles = profiles
        crm_fields = frozenset(getattr(crm, "profile_fields", ()))
        if not hasattr(crm, "update_member"):
            crm_fields = frozenset()  # a CRM adapter that only reads and upserts by email
        self.crm_fields = crm_fields
        self.gateway_fields = frozenset(f for f in GATEWAY_FIELDS if f not in crm_fields)

    @property
    def writable_fields(self) -> frozenset[str]:
        return self.crm_fields | self.gateway_fields

    def owner_of(self, field: str) -> str | None:
        """ "crm", "gateway", or None (nobody stores it: read-only)."""
        if field in self.crm_fields:
            return "crm"
        return "gateway" if field in self.gateway_fields else None

    async def _joined(self, records: Sequence[MemberRecord]) -> list[MemberRecord]:
        if not self.gateway_fields or not records:
            return list(records)
        kept = await self.profiles.profiles_of([r.key for r in records])
        joined = []
        for record in records:
            own = kept.get(record.key, {})
            values = {f: own[f] for f in self.gateway_fields if f in own}
            if "marketing_consent" in values:
                values["marketing_consent"] = bool(values["marketing_consent"])
            joined.append(dataclasses.replace(record, **values))
        return joined

    async def members_by_keys(self, keys: Sequence[str]) -> list[MemberRecord]:
        return await self._joined(await self.crm.members_by_keys(keys))

    async def members_by_emails(self, emails: Sequence[str]) -> list[MemberRecord]:
        return await self._joined(await self.crm.members_by_emails(emails))

    async def upsert_member(self, member: MemberDraft) -> MemberRecord:
        [record] = await self._joined([await self.crm.upsert_member(member)])
        return record

    async def update_member(self, key: str, changes: MemberChanges, now: datetime) -> MemberRecord | None:
        """The CRM's fields written to the CRM, the gateway's to the gateway's table; the
        CRM first, so a member it does not know gets no row here."""
        given = {f.name: getattr(changes, f.name) for f in dataclasses.fields(changes)}
        given = {name: value for name, value in given.items() if value is not None}
        for_crm = {name: v for name, v in given.items() if name in self.crm_fields}
        ours: dict[str, Any] = {name: v for name, v in given.items() if name in self.gateway_fields}
        if for_crm:
            record = await self.crm.update_member(key, MemberChanges(**for_crm), now)  # type: ignore[attr-defined]
        else:
            record = next(iter(await self.crm.members_by_keys([key])), None)
        if record is None:
            return None
        if ours:
            await self.profiles.save_profile(key, ours, now)
        [joined] = await self._joined([record])
        return joined

    async def export_member(self, key: str) -> dict[str, Any] | None:
        """What the CRM holds (its own export when its adapter has one, else its record) with
        the gateway-kept fields beside it, each under its owner."""
        export = getattr(self.crm, "export_member", None)
        if export is not None:
            held = await export(key)
        else:
            found = await self.crm.members_by_keys([key])
            held = dataclasses.asdict(found[0]) if found else None
        if held is None:
            return None
        kept = (await self.profiles.profiles_of([key])).get(key, {})
        return {"crm": held, "gateway": {f: kept[f] for f in self.gateway_fields if f in kept}}

    async def erase_member(self, key: str, now: datetime) -> bool | None:
        """The CRM's side of an erasure, when its adapter can (None: it cannot; the gateway's
        side is erased either way, by the caller)."""
        erase = getattr(self.crm, "erase_member", None)
        if erase is None:
            return None
        return bool(await erase(key, now))
