"""SAP S/4HANA over OData (API_PRODUCT_SRV, API_MATERIAL_STOCK_SRV, API_SALES_ORDER_SRV,
API_BUSINESS_PARTNER): catalog and stock feeds, business partners, sales orders."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from adapters.odata._client import ODataClient
from adapters.odata._config import ODataConfig
from adapters.odata._exceptions import (
    ODataError,
    ODataNotFound,
    ODataPreconditionFailed,
    ODataRejected,
    ODataUnavailable,
)
from adapters.odata._feeds import ODataCatalogFeed, ODataStockFeed
from adapters.odata._members import ODataMembers
from adapters.odata._orders import ODataOrders
from adapters.resilience import Guard, ResiliencePolicy

__all__ = [
    "ODataConfig",
    "ODataError",
    "ODataNotFound",
    "ODataPreconditionFailed",
    "ODataRejected",
    "ODataUnavailable",
    "ODataUpstream",
    "connect",
]


@dataclass(slots=True)
class ODataUpstream:
    name: str
    guard: Guard
    client: ODataClient
    catalog: ODataCatalogFeed
    stock: ODataStockFeed
    members: ODataMembers
    orders: ODataOrders
    _http: httpx.AsyncClient

    async def aclose(self) -> None:
        await self._http.aclose()


def connect(
    config: ODataConfig | None = None,
    policy: ResiliencePolicy | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ODataUpstream:
    config = config or ODataConfig()
    guard = Guard("odata", policy)
    auth = None
    if config.user and config.password:
        auth = httpx.BasicAuth(config.user, config.password.get_secret_value())
    # Cookies matter: SAP ties the CSRF token to the session cookie it sets with it.
    http = httpx.AsyncClient(auth=auth, timeout=httpx.Timeout(60.0), transport=transport)
    client = ODataClient(
        config.url,
        guard,
        http,
        sap_client=config.sap_client,
        page_size=config.page_size,
        keys_per_filter=config.keys_per_filter,
    )
    members = ODataMembers(client)
    return ODataUpstream(
        name="odata",
        guard=guard,
        client=client,
        catalog=ODataCatalogFeed(client, config),
        stock=ODataStockFeed(client, config),
        members=members,
        orders=ODataOrders(client, members, config),
        _http=http,
    )
