"""Writes made around the gateway, heard from PostgreSQL: LISTEN to the channels the change
triggers notify (migration 0011) on one connection of its own, and hand each change on.

An ERP or a till that writes `inventory_levels`, `products` or `variants` straight into the
gateway's database is seen within the time of a NOTIFY, not a cache TTL. Delivery is as good
as LISTEN's: a notification sent while this connection is down (PostgreSQL restarting) is lost,
so on reconnecting the caller is told to forget everything (`on_reconnect`), and the TTLs bound
what a lost one could leave behind.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.engine import URL

from adapters.records import InventoryLevelRecord

log = logging.getLogger("omnigate.notifications")

STOCK_CHANNEL, CATALOG_CHANNEL = "omnigate_stock", "omnigate_catalog"
APPLICATION_NAME = "omnigate"  # the triggers skip connections that say so: the gateway's own


def level_from(payload: str) -> InventoryLevelRecord:
    found = orjson.loads(payload)
    return InventoryLevelRecord(
        variant_id=int(found["variant_id"]),
        location_id=int(found["location_id"]),
        on_hand=int(found["on_hand"]),
        reserved=int(found["reserved"]),
        updated_at=datetime.fromisoformat(found["updated_at"]),
        safety_stock=int(found.get("safety_stock", 0)),
    )


class DatabaseChanges:
    def __init__(
        self,
        url: URL,
        on_stock: Callable[[InventoryLevelRecord], None],
        on_catalog: Callable[[int], None],
        on_reconnect: Callable[[], None],
        max_backoff: float = 5.0,
    ) -> None:
        self._url = url
        self._on_stock, self._on_catalog, self._on_reconnect = on_stock, on_catalog, on_reconnect
        self._max_backoff = max_backoff
        self.listening = asyncio.Event()
        self.received = 0
        self.reconnects = 0

    async def _connect(self) -> Any:
        import asyncpg

        url = self._url
        return await asyncpg.connect(
            host=url.host, port=url.port, user=url.username, password=url.password,
            database=url.database, server_settings={"application_name": f"{APPLICATION_NAME}-listen"},
        )  # fmt: skip

    def _heard(self, _conn: Any, _pid: int, channel: str, payload: str) -> None:
        self.received += 1
        try:
            if channel == STOCK_CHANNEL:
                self._on_stock(level_from(payload))
            else:
                self._on_catalog(int(orjson.loads(payload)["product_id"]))
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("ignoring a %s notification it cannot read: %s", channel, exc)

    async def run_forever(self) -> None:
        backoff = 0.1
        while True:
            try:
                await self._listen(again=self.reconnects > 0)
                self._lost(ConnectionError("the connection closed"), backoff)
                backoff = 0.1
            except Exception as exc:  # the server went away, refused, or a socket died
                self._lost(exc, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self._max_backoff)

    async def _listen(self, *, again: bool) -> None:
        """Listen on one connection until it is lost."""
        conn = await self._connect()
        try:
            lost = asyncio.Event()
            conn.add_termination_listener(lambda _conn: lost.set())
            await conn.add_listener(STOCK_CHANNEL, self._heard)
            await conn.add_listener(CATALOG_CHANNEL, self._heard)
            if again:  # what changed while nobody listened is unknown
                self._on_reconnect()
            self.listening.set()
            while not lost.is_set():  # a socket that dies quietly shows on the next ping
                try:
                    await asyncio.wait_for(lost.wait(), timeout=10)
                except TimeoutError:
                    await asyncio.wait_for(conn.execute("SELECT 1"), timeout=5)
        finally:
            self.listening.clear()
            if not conn.is_closed():
                conn.terminate()

    def _lost(self, exc: BaseException, backoff: float) -> None:
        self.reconnects += 1
        log.warning("not hearing database changes (%s); listening again in %.1fs", exc, backoff)
