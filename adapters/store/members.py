"""The gateway's own member directory: the built-in implementation of `MemberDirectory`
(a CRM adapter replaces it by configuration), plus the passwords of members who sign in here."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from adapters.records import Address, MemberChanges, MemberDraft, MemberRecord
from adapters.store.tables import members

if TYPE_CHECKING:
    from adapters.store.engine import Database


def new_member_key() -> str:
    return f"m{secrets.token_hex(8)}"


def address_to_json(address: Address) -> dict[str, Any]:
    return dataclasses.asdict(address)


def member_from_row(row: Any) -> MemberRecord:
    return MemberRecord(
        key=row.id,
        email=row.email,
        first_name=row.first_name,
        last_name=row.last_name,
        phone=row.phone,
        addresses=tuple(Address(**a) for a in row.addresses),
        preferred_location_id=row.preferred_location_id,
        marketing_consent=bool(row.marketing_consent),
    )


class StoreMembers:
    def __init__(self, store: Database) -> None:
        self._store = store

    async def _rows(self, stmt: Any) -> list[Any]:
        async with self._store.reading() as conn:
            return list(await conn.execute(stmt))

    async def members_by_keys(self, keys: Sequence[str]) -> list[MemberRecord]:
        rows = await self._rows(sa.select(members).where(members.c.id.in_(list(keys))))
        return [member_from_row(r) for r in rows]

    async def members_by_emails(self, emails: Sequence[str]) -> list[MemberRecord]:
        wanted = [e.strip().lower() for e in emails]
        rows = await self._rows(sa.select(members).where(members.c.email.in_(wanted)))
        return [member_from_row(r) for r in rows]

    async def members_by_phone(self, digits: str, limit: int) -> list[MemberRecord]:
        """Members whose phone, its separators dropped, ends with `digits` (a national number
        without its leading 0 matches the international one). A scan of the members with a phone:
        staff look one customer up at a time."""
        national = digits.lstrip("0") or digits
        bare: Any = members.c.phone
        for sep in (" ", "-", ".", "(", ")", "/"):
            bare = sa.func.replace(bare, sep, "")
        stmt = (
            sa.select(members)
            .where(members.c.phone.is_not(None), bare.like(f"%{national}"))
            .order_by(members.c.id)
            .limit(limit)
        )
        return [member_from_row(r) for r in await self._rows(stmt)]

    async def upsert_member(self, member: MemberDraft) -> MemberRecord:
        now = datetime.now(UTC)
        email = member.email.strip().lower()
        values: dict[str, Any] = {
            "first_name": member.first_name,
            "last_name": member.last_name,
            "phone": member.phone,
            "updated_at": now,
        }
        if member.address is not None:
            values["addresses"] = [address_to_json(member.address)]

        async def work(conn: Any) -> MemberRecord:
            found = (await conn.execute(sa.select(members.c.id).where(members.c.email == email))).first()
            if found is None:
                key = new_member_key()
                await conn.execute(
                    sa.insert(members).values(
                        id=key, email=email, created_at=now, **{"addresses": [], **values}
                    )
                )
            else:
                key = found.id
                await conn.execute(sa.update(members).where(members.c.id == key).values(**values))
            row = (await conn.execute(sa.select(members).where(members.c.id == key))).one()
            return member_from_row(row)

        return await self._store.write(work)

    async def update_member(self, key: str, changes: MemberChanges, now: datetime) -> MemberRecord | None:
        values: dict[str, Any] = {
            name: value
            for name, value in dataclasses.asdict(changes).items()
            if value is not None and name != "addresses"
        }
        if changes.addresses is not None:
            values["addresses"] = [address_to_json(a) for a in changes.addresses]
        values["updated_at"] = now

        async def work(conn: Any) -> MemberRecord | None:
            await conn.execute(sa.update(members).where(members.c.id == key).values(**values))
            row = (await conn.execute(sa.select(members).where(members.c.id == key))).first()
            return None if row is None else member_from_row(row)

        return await self._store.write(work)

    async def password_hash_of(self, email: str) -> tuple[str, str] | None:
        rows = await self._rows(
            sa.select(members.c.id, members.c.password_hash).where(members.c.email == email.strip().lower())
        )
        if not rows or rows[0].password_hash is None:
            return None
        return rows[0].id, rows[0].password_hash

    async def export_member(self, key: str) -> dict[str, Any] | None:
        """Everything this directory holds about the member (never the password's hash: only
        whether there is one)."""
        rows = await self._rows(sa.select(members).where(members.c.id == key))
        if not rows:
            return None
        row = rows[0]
        return {
            "email": row.email,
            "firstName": row.first_name,
            "lastName": row.last_name,
            "phone": row.phone,
            "addresses": list(row.addresses),
            "preferredLocationId": row.preferred_location_id,
            "marketingConsent": bool(row.marketing_consent),
            "signsInWithPassword": row.password_hash is not None,
            "createdAt": row.created_at.isoformat(),
            "updatedAt": row.updated_at.isoformat(),
        }

    async def erase_member(self, key: str, now: datetime) -> bool:
        """The member's personal fields removed: the key stays (their orders name it), the
        email becomes one that reaches nobody, the password goes, so nobody signs in as them."""
        values = {
            "email": erased_email(key),
            "first_name": "",
            "last_name": "",
            "phone": None,
            "addresses": [],
            "preferred_location_id": None,
            "marketing_consent": False,
            "password_hash": None,
            "updated_at": now,
        }

        async def work(conn: Any) -> bool:
            done = await conn.execute(sa.update(members).where(members.c.id == key).values(**values))
            return bool(done.rowcount)

        return await self._store.write(work)


def erased_email(key: str) -> str:
    """An address under the reserved `.invalid` domain (RFC 2606): unique, and reaches nobody."""
    return f"erased-{key}@erased.invalid"
