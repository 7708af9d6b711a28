"""Tryton ERP (JSON-RPC): catalog and stock feeds, customers as parties, orders as sales."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from adapters.resilience import Guard, ResiliencePolicy
from adapters.tryton._client import TrytonClient
from adapters.tryton._config import TrytonConfig
from adapters.tryton._exceptions import (
    TrytonAuthError,
    TrytonError,
    TrytonUnavailable,
    TrytonUserError,
)
from adapters.tryton._feeds import TrytonCatalogFeed, TrytonStockFeed
from adapters.tryton._members import TrytonMembers
from adapters.tryton._orders import TrytonOrders

__all__ = [
    "TrytonAuthError",
    "TrytonConfig",
    "TrytonError",
    "TrytonUnavailable",
    "TrytonUpstream",
    "TrytonUserError",
    "connect",
]


@dataclass(slots=True)
class TrytonUpstream:
    name: str
    guard: Guard
    client: TrytonClient
    catalog: TrytonCatalogFeed
    stock: TrytonStockFeed
    members: TrytonMembers
    orders: TrytonOrders
    _http: httpx.AsyncClient

    @property
    def url(self) -> str:
        return self.client.url

    async def aclose(self) -> None:
        await self._http.aclose()


def connect(config: TrytonConfig | None = None, policy: ResiliencePolicy | None = None) -> TrytonUpstream:
    config = config or TrytonConfig()
    guard = Guard("tryton", policy)
    # The guard owns timeouts; httpx's is only a backstop for a connection that never closes.
    http = httpx.AsyncClient(timeout=httpx.Timeout(60.0))
    client = TrytonClient(config, guard, http)
    members = TrytonMembers(client)
    return TrytonUpstream(
        name="tryton",
        guard=guard,
        client=client,
        catalog=TrytonCatalogFeed(client),
        stock=TrytonStockFeed(client, forecast=config.stock == "forecast"),
        members=members,
        orders=TrytonOrders(client, members, config.warehouse),
        _http=http,
    )
