"""Gateway-owned profile fields of members kept in a CRM: one row per member key, only the
fields the CRM has no place for (adapters/profiles.py decides which)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from adapters.store.tables import member_profiles

if TYPE_CHECKING:
    from adapters.store.engine import Database

COLUMNS = ("phone", "preferred_location_id", "marketing_consent")


class StoreProfiles:
    def __init__(self, store: Database) -> None:
        self._store = store

    async def profiles_of(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        stmt = sa.select(member_profiles).where(member_profiles.c.member_key.in_(list(keys)))
        async with self._store.reading() as conn:
            rows = await conn.execute(stmt)
            return {r.member_key: {c: getattr(r, c) for c in COLUMNS} for r in rows}

    async def save_profile(self, key: str, values: Mapping[str, Any], now: datetime) -> None:
        """Write these fields of the member's row (made if missing), in one statement."""
        changed = {name: values[name] for name in COLUMNS if name in values}

        async def work(conn: Any) -> None:
            insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
            stmt = insert(member_profiles).values(member_key=key, updated_at=now, **changed)
            await conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[member_profiles.c.member_key],
                    set_={**changed, "updated_at": now},
                )
            )

        await self._store.write(work)
