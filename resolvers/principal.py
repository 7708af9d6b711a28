"""Who is calling, as far as the use cases care. Authentication (in the gateway) builds one."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, StrEnum


class PrincipalKind(Enum):
    ANONYMOUS = "ANONYMOUS"
    MEMBER = "MEMBER"
    STAFF = "STAFF"
    PARTNER = "PARTNER"
    INTEGRATION = "INTEGRATION"
    SYSTEM = "SYSTEM"  # the gateway's own background work (the reservation sweeper)


class Scope(StrEnum):
    """What a partner key or an integration may do beyond what anyone may: each scope is one
    power, held only by keys and integrations configured with it (least privilege), and checked
    only by the permission classes on fields (schema/permissions.py)."""

    SCHEMA_READ = "schema:read"  # introspection
    INVENTORY_WRITE = "inventory:write"  # stock counts and receipts at any location
    ORDERS_READ = "orders:read"  # any order, and its status changes (order sync)
    ORDERS_WRITE = "orders:write"  # move fulfillments, cancel, record till sales and returns anywhere
    MEMBERS_READ = "members:read"  # any member's profile, addresses, history and loyalty (member sync)
    GIFT_CARDS_WRITE = "gift_cards:write"  # issue gift cards
    # Staff roles (a staff token's `scopes` claim may carry these, and only these):
    ANALYTICS_READ = "analytics:read"  # the analytics reports, of the caller's own locations
    ANALYTICS_ALL = "analytics:all"  # the reports of every location, and the loyalty liability
    SUPPORT_READ = "support:read"  # a member's support view: contact, timeline, conversations
    SUPPORT_WRITE = "support:write"  # open and answer support conversations (includes support:read)
    AUDIT_READ = "audit:read"  # the audit log of staff reads of members' personal data (admins)


# What `GATEWAY_INTEGRATION_TOKEN` may do: post stock counts and receipts.
INTEGRATION_DEFAULT_SCOPES = frozenset({Scope.INVENTORY_WRITE.value})
# Who may change orders may read them; HQ analysts read what store managers read; who answers
# support conversations reads them.
_IMPLIED = {
    Scope.ORDERS_READ: Scope.ORDERS_WRITE,
    Scope.ANALYTICS_READ: Scope.ANALYTICS_ALL,
    Scope.SUPPORT_READ: Scope.SUPPORT_WRITE,
}
# The scopes a staff member's token may grant: roles of people, never the powers of systems
# (a staff token that claims `orders:write` gains nothing by it).
STAFF_SCOPES = frozenset(
    scope.value
    for scope in (
        Scope.ANALYTICS_READ,
        Scope.ANALYTICS_ALL,
        Scope.SUPPORT_READ,
        Scope.SUPPORT_WRITE,
        Scope.AUDIT_READ,
    )
)


@dataclass(frozen=True, slots=True)
class Principal:
    kind: PrincipalKind
    subject: str = "anonymous"  # a stable name for audit trails ("integration:erp", "staff:42")
    location_ids: frozenset[int] = field(default_factory=frozenset)  # staff: where they work
    # Partners and integrations: `Scope`s; staff: their roles (`STAFF_SCOPES` only).
    scopes: frozenset[str] = field(default_factory=frozenset)
    member_id: str | None = None  # members: whose carts and orders are theirs

    @property
    def is_authenticated(self) -> bool:
        return self.kind is not PrincipalKind.ANONYMOUS

    def has_scope(self, scope: Scope) -> bool:
        """A partner key or integration configured with this power, staff given this role (the
        staff roles only), or the gateway itself."""
        if self.kind is PrincipalKind.SYSTEM:
            return True
        if self.kind is PrincipalKind.STAFF:
            if scope.value not in STAFF_SCOPES:
                return False
        elif self.kind not in (PrincipalKind.PARTNER, PrincipalKind.INTEGRATION):
            return False
        implied = _IMPLIED.get(scope)
        return scope.value in self.scopes or (implied is not None and implied.value in self.scopes)

    def analytics_locations(self) -> frozenset[int] | None:
        """Whose figures the analytics reports show: None for every location (analytics:all),
        else the caller's own locations (a store manager's stores)."""
        if self.has_scope(Scope.ANALYTICS_ALL):
            return None
        return self.location_ids

    def may_adjust_stock_at(self, location_id: int) -> bool:
        if self.kind is PrincipalKind.STAFF:
            return location_id in self.location_ids
        return self.has_scope(Scope.INVENTORY_WRITE)

    def works_at(self, location_id: int) -> bool:
        """Staff of that store or warehouse (or the gateway itself, which works everywhere)."""
        if self.kind is PrincipalKind.SYSTEM:
            return True
        return self.kind is PrincipalKind.STAFF and location_id in self.location_ids

    def may_change_orders_at(self, location_id: int) -> bool:
        """Move fulfillments, record till sales and returns there: its staff, or orders:write."""
        return self.works_at(location_id) or self.has_scope(Scope.ORDERS_WRITE)

    def is_member(self, member_id: str | None) -> bool:
        """This very member (their carts), or the gateway itself."""
        if self.kind is PrincipalKind.SYSTEM:
            return True
        return self.kind is PrincipalKind.MEMBER and member_id is not None and member_id == self.member_id

    def may_read_member(self, member_id: str | None) -> bool:
        """A member's profile, history and loyalty: the member, or members:read (member sync)."""
        return self.is_member(member_id) or self.has_scope(Scope.MEMBERS_READ)

    def may_open_cart(self, member_id: str | None, location_id: int | None = None) -> bool:
        """A guest cart opens with its secret id alone; a member's cart for that member, and
        for staff of the store it was built at (the tablet that made it for them)."""
        if member_id is None or self.is_member(member_id):
            return True
        return location_id is not None and self.kind is PrincipalKind.STAFF and self.works_at(location_id)

    def may_see_order(self, member_id: str | None, location_ids: set[int]) -> bool:
        """Its owner, staff of one of the locations fulfilling it, or orders:read."""
        if self.has_scope(Scope.ORDERS_READ):
            return True
        if self.kind is PrincipalKind.MEMBER:
            return member_id is not None and member_id == self.member_id
        return any(self.works_at(loc) for loc in location_ids)

    def may_change_order(self, member_id: str | None, location_ids: set[int]) -> bool:
        """Cancel it: its owner, staff of one of the locations fulfilling it, or orders:write."""
        if self.has_scope(Scope.ORDERS_WRITE):
            return True
        if self.kind is PrincipalKind.MEMBER:
            return member_id is not None and member_id == self.member_id
        return any(self.works_at(loc) for loc in location_ids)


ANONYMOUS = Principal(PrincipalKind.ANONYMOUS)
SYSTEM = Principal(PrincipalKind.SYSTEM, subject="system")
