"""Customers as Tryton parties: email from the contact mechanisms, addresses from the party."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.records import Address, MemberDraft, MemberRecord
from adapters.tryton._client import TrytonClient

_FIELDS = [
    "name",
    "email",
    "phone",
    "addresses.street",
    "addresses.city",
    "addresses.postal_code",
]


def _member(row: dict[str, Any]) -> MemberRecord:
    first, _, last = (row.get("name") or "").partition(" ")
    return MemberRecord(
        key=str(row["id"]),
        email=row.get("email") or None,
        first_name=first,
        last_name=last,
        phone=row.get("phone") or None,
        addresses=tuple(
            Address(
                address1=a.get("street") or "",
                address2=None,
                city=a.get("city") or "",
                province=None,
                province_code=None,
                zip=a.get("postal_code"),
                country="",
                country_code="",
                phone=None,
            )
            for a in row.get("addresses.") or []
        ),
    )


class TrytonMembers:
    def __init__(self, client: TrytonClient) -> None:
        self._client = client

    async def members_by_keys(self, keys: Sequence[str]) -> list[MemberRecord]:
        ids = [int(k) for k in keys if k.isdigit()]
        rows = await self._client.search_read("party.party", [["id", "in", ids]], _FIELDS)
        return [_member(r) for r in rows]

    async def members_by_emails(self, emails: Sequence[str]) -> list[MemberRecord]:
        rows = await self._client.search_read(
            "party.party",
            [
                ["contact_mechanisms.type", "=", "email"],
                ["contact_mechanisms.value", "in", list(emails)],
            ],
            _FIELDS,
        )
        return [_member(r) for r in rows]

    async def upsert_member(self, member: MemberDraft) -> MemberRecord:
        name = f"{member.first_name} {member.last_name}".strip() or member.email
        [found] = (await self.members_by_emails([member.email]))[:1] or [None]
        if found is not None:
            await self._client.model("party.party", "write", [int(found.key)], {"name": name})
            party_id = int(found.key)
        else:
            mechanisms = [{"type": "email", "value": member.email}]
            if member.phone:
                mechanisms.append({"type": "phone", "value": member.phone})
            address = member.address
            [party_id] = await self._client.model(
                "party.party",
                "create",
                [
                    {
                        "name": name,
                        "contact_mechanisms": [["create", mechanisms]],
                        "addresses": [
                            [
                                "create",
                                [
                                    {
                                        "street": address.address1 if address else "",
                                        "city": address.city if address else "",
                                        "postal_code": address.zip if address else "",
                                    }
                                ],
                            ]
                        ],
                    }
                ],
            )
        [record] = await self.members_by_keys([str(party_id)])
        return record
