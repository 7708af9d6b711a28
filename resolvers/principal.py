"""Who is calling, as far as the use cases care. Authentication (in the gateway) builds one."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class PrincipalKind(Enum):
    ANONYMOUS = "ANONYMOUS"
    MEMBER = "MEMBER"
    STAFF = "STAFF"
    PARTNER = "PARTNER"
    INTEGRATION = "INTEGRATION"


@dataclass(frozen=True, slots=True)
class Principal:
    kind: PrincipalKind
    subject: str = "anonymous"  # a stable name for audit trails ("integration:erp", "staff:42")
    location_ids: frozenset[int] = field(default_factory=frozenset)  # staff: where they work
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_authenticated(self) -> bool:
        return self.kind is not PrincipalKind.ANONYMOUS

    def may_adjust_stock_at(self, location_id: int) -> bool:
        if self.kind is PrincipalKind.INTEGRATION:
            return True
        if self.kind is PrincipalKind.STAFF:
            return location_id in self.location_ids
        return self.kind is PrincipalKind.PARTNER and "inventory:write" in self.scopes


ANONYMOUS = Principal(PrincipalKind.ANONYMOUS)
