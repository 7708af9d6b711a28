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
    SYSTEM = "SYSTEM"  # the gateway's own background work (the reservation sweeper)


@dataclass(frozen=True, slots=True)
class Principal:
    kind: PrincipalKind
    subject: str = "anonymous"  # a stable name for audit trails ("integration:erp", "staff:42")
    location_ids: frozenset[int] = field(default_factory=frozenset)  # staff: where they work
    scopes: frozenset[str] = field(default_factory=frozenset)
    member_id: str | None = None  # members: whose carts and orders are theirs

    @property
    def is_authenticated(self) -> bool:
        return self.kind is not PrincipalKind.ANONYMOUS

    def may_adjust_stock_at(self, location_id: int) -> bool:
        if self.kind is PrincipalKind.INTEGRATION:
            return True
        if self.kind is PrincipalKind.STAFF:
            return location_id in self.location_ids
        return self.kind is PrincipalKind.PARTNER and "inventory:write" in self.scopes

    @property
    def is_back_office(self) -> bool:
        return self.kind in (PrincipalKind.INTEGRATION, PrincipalKind.SYSTEM)

    def works_at(self, location_id: int) -> bool:
        """Staff of that store or warehouse (or the back office, which works everywhere)."""
        if self.is_back_office:
            return True
        return self.kind is PrincipalKind.STAFF and location_id in self.location_ids

    def is_member(self, member_id: str | None) -> bool:
        """This very member (their profile, history, loyalty), or the back office."""
        if self.is_back_office:
            return True
        return self.kind is PrincipalKind.MEMBER and member_id is not None and member_id == self.member_id

    def may_open_cart(self, member_id: str | None, location_id: int | None = None) -> bool:
        """A guest cart opens with its secret id alone; a member's cart for that member, and
        for staff of the store it was built at (the tablet that made it for them)."""
        if member_id is None or self.is_member(member_id):
            return True
        return location_id is not None and self.kind is PrincipalKind.STAFF and self.works_at(location_id)

    def may_see_order(self, member_id: str | None, location_ids: set[int]) -> bool:
        """Its owner, or staff of one of the locations fulfilling it."""
        if self.is_back_office:
            return True
        if self.kind is PrincipalKind.MEMBER:
            return member_id is not None and member_id == self.member_id
        return any(self.works_at(loc) for loc in location_ids)


ANONYMOUS = Principal(PrincipalKind.ANONYMOUS)
SYSTEM = Principal(PrincipalKind.SYSTEM, subject="system")
