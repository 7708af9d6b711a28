"""Customers as SAP business partners (API_BUSINESS_PARTNER): the partner, its address, and
the address's email. A lookup by email walks email -> address -> partner.

A profile edit PATCHes the partner's names and its addresses (If-Match with each row's ETag),
creates the addresses it lacks and deletes the ones no longer wanted, except the address that
carries the member's email: that one is rewritten, never deleted. The phone, preferred store
and marketing consent have no place in the entity sets this adapter uses; the gateway keeps
them (adapters/profiles.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from adapters.odata._client import ODataClient
from adapters.records import Address, MemberChanges, MemberDraft, MemberRecord

BP = "API_BUSINESS_PARTNER"


def _etag(row: dict[str, Any]) -> str | None:
    return (row.get("__metadata") or {}).get("etag")


def _address_values(a: Address) -> dict[str, str]:
    return {
        "StreetName": a.address1,
        "CityName": a.city,
        "PostalCode": a.zip or "",
        "Country": a.country_code,
    }


class ODataMembers:
    # The `MemberChanges` fields a business partner has a place for here.
    profile_fields = frozenset({"first_name", "last_name", "addresses"})

    def __init__(self, client: ODataClient) -> None:
        self._client = client

    async def members_by_keys(self, keys: Sequence[str]) -> list[MemberRecord]:
        partners = await self._client.get_by_keys(BP, "A_BusinessPartner", "BusinessPartner", keys)
        addresses = await self._client.get_by_keys(BP, "A_BusinessPartnerAddress", "BusinessPartner", keys)
        emails = await self._client.get_by_keys(
            BP, "A_AddressEmailAddress", "AddressID", {a["AddressID"] for a in addresses}
        )
        email_of = {e["AddressID"]: e["EmailAddress"] for e in emails}
        return [_member(p, addresses, email_of) for p in partners]

    async def members_by_emails(self, emails: Sequence[str]) -> list[MemberRecord]:
        found = await self._client.get_by_keys(BP, "A_AddressEmailAddress", "EmailAddress", emails)
        addresses = await self._client.get_by_keys(
            BP, "A_BusinessPartnerAddress", "AddressID", {e["AddressID"] for e in found}
        )
        return await self.members_by_keys(sorted({a["BusinessPartner"] for a in addresses}))

    async def upsert_member(self, member: MemberDraft) -> MemberRecord:
        names = {
            "FirstName": member.first_name,
            "LastName": member.last_name,
            "BusinessPartnerFullName": f"{member.first_name} {member.last_name}".strip(),
        }
        [found] = (await self.members_by_emails([member.email]))[:1] or [None]
        if found is not None:
            [partner] = await self._client.get_by_keys(
                BP, "A_BusinessPartner", "BusinessPartner", [found.key]
            )
            etag = (partner.get("__metadata") or {}).get("etag")
            await self._client.update(BP, f"A_BusinessPartner('{found.key}')", names, etag)
            key = found.key
        else:
            partner = await self._client.create(
                BP, "A_BusinessPartner", {"BusinessPartnerCategory": "1", **names}
            )
            key = partner["BusinessPartner"]
            a = member.address
            address = await self._client.create(
                BP,
                "A_BusinessPartnerAddress",
                {
                    "BusinessPartner": key,
                    "StreetName": a.address1 if a else "",
                    "CityName": a.city if a else "",
                    "PostalCode": (a.zip or "") if a else "",
                    "Country": a.country_code if a else "",
                },
            )
            await self._client.create(
                BP,
                "A_AddressEmailAddress",
                {
                    "AddressID": address["AddressID"],
                    "Person": "",
                    "OrdinalNumber": "1",
                    "EmailAddress": member.email,
                },
            )
        [record] = await self.members_by_keys([key])
        return record

    async def update_member(self, key: str, changes: MemberChanges, now: datetime) -> MemberRecord | None:
        partners = await self._client.get_by_keys(BP, "A_BusinessPartner", "BusinessPartner", [key])
        if not partners:
            return None
        partner = partners[0]
        if changes.first_name is not None or changes.last_name is not None:
            first = (partner.get("FirstName") or "") if changes.first_name is None else changes.first_name
            last = (partner.get("LastName") or "") if changes.last_name is None else changes.last_name
            full = f"{first} {last}".strip()
            names = {"FirstName": first, "LastName": last, "BusinessPartnerFullName": full}
            await self._client.update(BP, f"A_BusinessPartner('{key}')", names, _etag(partner))
        if changes.addresses is not None:
            await self._replace_addresses(key, list(changes.addresses))
        [record] = await self.members_by_keys([key])
        return record

    async def _replace_addresses(self, key: str, wanted: list[Address]) -> None:
        rows = await self._client.get_by_keys(BP, "A_BusinessPartnerAddress", "BusinessPartner", [key])
        emails = await self._client.get_by_keys(
            BP, "A_AddressEmailAddress", "AddressID", {r["AddressID"] for r in rows}
        )
        with_email = {e["AddressID"] for e in emails}
        # The address with the email first: it is rewritten, never deleted.
        rows.sort(key=lambda r: (r["AddressID"] not in with_email, r["AddressID"]))
        for index, row in enumerate(rows):
            path = f"A_BusinessPartnerAddress(BusinessPartner='{key}',AddressID='{row['AddressID']}')"
            if index < len(wanted):
                await self._client.update(BP, path, _address_values(wanted[index]), _etag(row))
            elif row["AddressID"] in with_email:
                blank = {"StreetName": "", "CityName": "", "PostalCode": "", "Country": ""}
                await self._client.update(BP, path, blank, _etag(row))
            else:
                await self._client.delete(BP, path, _etag(row))
        for address in wanted[len(rows) :]:
            await self._client.create(
                BP, "A_BusinessPartnerAddress", {"BusinessPartner": key, **_address_values(address)}
            )


def _member(
    partner: dict[str, Any], addresses: list[dict[str, Any]], email_of: dict[str, str]
) -> MemberRecord:
    own = [a for a in addresses if a["BusinessPartner"] == partner["BusinessPartner"]]
    return MemberRecord(
        key=partner["BusinessPartner"],
        email=next((email_of[a["AddressID"]] for a in own if a["AddressID"] in email_of), None),
        first_name=partner.get("FirstName") or "",
        last_name=partner.get("LastName") or "",
        phone=None,
        addresses=tuple(
            Address(
                address1=a.get("StreetName") or "",
                address2=None,
                city=a.get("CityName") or "",
                province=None,
                province_code=None,
                zip=a.get("PostalCode") or None,
                country=a.get("Country") or "",
                country_code=a.get("Country") or "",
                phone=None,
            )
            for a in own
            if a.get("StreetName") or a.get("CityName")  # not the blanked holder of the email
        ),
    )
