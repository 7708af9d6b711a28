"""Connecting the systems of record that configuration names, one per role.

`GATEWAY_CATALOG=tryton` means: import `adapters.tryton`, call its `connect()`, and feed the
catalog read model from its `catalog` feed. An upstream package offers some of `catalog`,
`stock`, `members`, `orders`, plus `guard` and `aclose()`; adding one is a folder in adapters/.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from gateway.settings import Settings

STORE = "store"


@dataclass(slots=True)
class ConnectedUpstreams:
    by_name: dict[str, Any] = field(default_factory=dict)
    catalog: Any = None  # the upstream feeding the catalog read model, if not the store
    inventory: Any = None
    customers: Any = None
    orders: Any = None

    def roles_of(self, name: str) -> list[str]:
        """The roles upstream `name` plays: catalog, inventory, customers, orders."""
        upstream = self.by_name.get(name)
        roles = ("catalog", "inventory", "customers", "orders")
        return [role for role in roles if upstream is not None and getattr(self, role) is upstream]

    def observe(self, observer: Any) -> None:
        """Every call to every upstream, timed, reaches `observer(name, seconds, error)`."""
        for upstream in self.by_name.values():
            guard = getattr(upstream, "guard", None)
            if guard is not None and observer not in guard.observers:
                guard.observe(observer)

    async def aclose(self) -> None:
        for upstream in self.by_name.values():
            await upstream.aclose()


def connect_upstreams(settings: Settings, **overrides: Any) -> ConnectedUpstreams:
    """`overrides` maps an upstream name to an already connected one (tests, benchmarks)."""
    roles = {
        "catalog": settings.catalog,
        "inventory": settings.inventory,
        "customers": settings.customers,
        "orders": settings.orders,
    }
    connected = ConnectedUpstreams()
    policy = settings.resilience_policy()
    for role, name in roles.items():
        if name == STORE:
            continue
        if name not in connected.by_name:
            connected.by_name[name] = overrides.get(name) or _connect(name, policy)
            _not_the_gateway(name, getattr(connected.by_name[name], "url", None), settings)
        upstream = connected.by_name[name]
        wanted = {"catalog": "catalog", "inventory": "stock", "customers": "members"}.get(role, role)
        if getattr(upstream, wanted, None) is None:
            raise ValueError(f"upstream {name!r} cannot play the {role} role")
        setattr(connected, role, upstream)
    return connected


_LOOPBACK = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}


def _not_the_gateway(name: str, url: str | None, settings: Settings) -> None:
    """Tryton's default listener and the gateway's default port are both 8000: an upstream URL
    left at its default on the gateway's own host would have the gateway call itself."""
    if not url:
        return
    parsed = urlsplit(url)
    own = {settings.host, *_LOOPBACK} if settings.host in _LOOPBACK else {settings.host}
    if parsed.hostname in own and (parsed.port or 80) == settings.port:
        raise ValueError(
            f"the {name} upstream's URL {url} is this gateway's own listener (port {settings.port}): "
            f"point GATEWAY_{name.upper()}_URL at the upstream, or move the gateway (GATEWAY_PORT)"
        )


def _connect(name: str, policy: Any) -> Any:
    try:
        package = importlib.import_module(f"adapters.{name}")
    except ModuleNotFoundError as exc:
        raise ValueError(f"no upstream adapter named {name!r} (adapters/{name}/)") from exc
    return package.connect(policy=policy)
