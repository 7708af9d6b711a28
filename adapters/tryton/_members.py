"""Customers as Tryton parties: email from the contact mechanisms, addresses from the party.

A profile edit writes the party itself: its name ("first last"), its phone contact mechanism,
its addresses. The preferred store and marketing consent have no place on a party; the gateway
keeps those (adapters/profiles.py). Addresses and contact mechanisms that are no longer wanted
are deactivated, not deleted: sales and invoices may point at them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from adapters.records import Address, MemberChanges, MemberDraft, MemberRecord
from adapters.tryton._client import TrytonClient

_FIELDS = [
    "name",
    "email",
    "phone",
    "addresses.street",
    "addresses.city",
    "addresses.postal_code",
]


ERASED_NAME = "Erased member"  # what an erased member's party is called


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
                address1=(a.get("street") or "").partition("\n")[0],
                address2=(a.get("street") or "").partition("\n")[2] or None,
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


def address_values(address: Address) -> dict[str, Any]:
    street = "\n".join(part for part in (address.address1, address.address2) if part)
    return {"street": street, "city": address.city, "postal_code": address.zip or ""}


class TrytonMembers:
    # The `MemberChanges` fields a party has a place for.
    profile_fields = frozenset({"first_name", "last_name", "phone", "addresses"})

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

    async def update_member(self, key: str, changes: MemberChanges, now: datetime) -> MemberRecord | None:
        """Write the party's name, phone and addresses in one `write` call."""
        found = await self.members_by_keys([key])
        if not found:
            return None
        current, party_id = found[0], int(key)
        values: dict[str, Any] = {}
        if changes.first_name is not None or changes.last_name is not None:
            first = current.first_name if changes.first_name is None else changes.first_name
            last = current.last_name if changes.last_name is None else changes.last_name
            values["name"] = f"{first} {last}".strip() or current.email or key
        if changes.phone is not None:
            phones = await self._client.search_read(
                "party.contact_mechanism",
                [["party", "=", party_id], ["type", "=", "phone"]],
                ["id"],
                order=[["sequence", "ASC"], ["id", "ASC"]],
            )
            ids = [p["id"] for p in phones]
            actions: list[list[Any]] = []
            if changes.phone and ids:
                actions.append(["write", ids[:1], {"value": changes.phone}])
            elif changes.phone:
                actions.append(["create", [{"type": "phone", "value": changes.phone}]])
            gone = ids[1:] if changes.phone else ids
            if gone:
                actions.append(["write", gone, {"active": False}])
            if actions:
                values["contact_mechanisms"] = actions
        if changes.addresses is not None:
            rows = await self._client.search_read(
                "party.address",
                [["party", "=", party_id]],
                ["id"],
                order=[["sequence", "ASC"], ["id", "ASC"]],
            )
            ids = [r["id"] for r in rows]
            wanted = list(changes.addresses)
            actions = [
                ["write", [address_id], address_values(address)]
                for address_id, address in zip(ids, wanted, strict=False)
            ]
            if len(wanted) > len(ids):
                actions.append(["create", [address_values(a) for a in wanted[len(ids) :]]])
            if len(ids) > len(wanted):
                actions.append(["write", ids[len(wanted) :], {"active": False}])
            if actions:
                values["addresses"] = actions
        if values:
            await self._client.model("party.party", "write", [party_id], values)
        [record] = await self.members_by_keys([key])
        return record

    async def erase_member(self, key: str, now: datetime) -> bool:
        """Erasure in the ERP: the party stays (its sales and invoices name it) but says nothing
        personal: an anonymous name, no contact mechanisms, its addresses blanked and archived
        (sales may point at them)."""
        if not key.isdigit() or not await self.members_by_keys([key]):
            return False
        party_id = int(key)
        mechanisms = await self._client.search_read(
            "party.contact_mechanism", [["party", "=", party_id]], ["id"]
        )
        addresses = await self._client.search_read("party.address", [["party", "=", party_id]], ["id"])
        values: dict[str, Any] = {"name": ERASED_NAME}
        if mechanisms:  # emails and phones have no blank form: they go
            values["contact_mechanisms"] = [["delete", [m["id"] for m in mechanisms]]]
        if addresses:
            blank = {"street": "", "city": "", "postal_code": "", "active": False}
            values["addresses"] = [["write", [a["id"] for a in addresses], blank]]
        await self._client.model("party.party", "write", [party_id], values)
        return True
