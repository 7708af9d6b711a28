"""Who may call what, declared on fields. Each class answers one question.

This module and `Principal`'s predicates are the one place authorization lives: the members issue
replaces how principals are made (gateway/identity/auth.py), not these rules. Nothing here lists carts,
and orders only for those who may see each of them (a location's orders for its staff): a cart
is reached only by its secret id (and a member's cart only by that member), an order only by one
who may see it, a member's profile, history and loyalty only by that member.
"""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from adapters.commerce import CartRecord, OrderRecord, OrderStatus
from resolvers import orders, support
from resolvers.errors import Forbidden, RateLimited, Unauthenticated
from resolvers.principal import Principal, PrincipalKind, Scope
from schema.ids import CART_TOKEN, EXTERNAL_KEY, decode_id, decode_str_id


class CanAdjustStock(BasePermission):
    """Staff at the locations they work at; partners and integrations with inventory:write."""

    message = "not allowed to adjust stock at this location"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = info.context.principal
        if not principal.is_authenticated:
            raise Unauthenticated("sign in to adjust stock")
        for change in kwargs["input"].changes:
            location_id = decode_id(change.location_id, "Location", "locationId")
            if not principal.may_adjust_stock_at(location_id):
                raise Forbidden(self.message)
        return True


class CanSetSafetyStock(BasePermission):
    """inventorySafetyStockSet: staff of that location; integrations with inventory:write."""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = _principal(info, "set safety stock")
        location_id = decode_id(kwargs["input"].location_id, "Location", "locationId")
        if not principal.may_adjust_stock_at(location_id):
            raise Forbidden("only staff of this location set its safety stock")
        return True


class WithinGiftCardLookupLimit(BasePermission):
    """giftCardBalance: anyone, a limited number of lookups per caller and period (a member, staff
    member or key by who they are, anyone else by client address); over it, RATE_LIMITED."""

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        context = info.context
        throttle = context.gift_card_lookups
        if throttle is None:
            return True
        principal: Principal = context.principal
        if principal.kind is PrincipalKind.ANONYMOUS:
            caller = f"ip:{context.client_address or 'unknown'}"
        else:
            caller = f"{principal.kind.value.lower()}:{principal.subject}"
        wait = await throttle.admit(caller)
        if wait is not None:
            raise RateLimited(f"Too many gift card lookups; retry in {wait} s.", retry_after=wait)
        return True


def _principal(info: Info, what: str) -> Principal:
    principal: Principal = info.context.principal
    if not principal.is_authenticated:
        raise Unauthenticated(f"sign in to {what}")
    return principal


async def may_see_order(info: Info, order: OrderRecord) -> bool:
    """The one rule for orders: its owner, staff of one of the locations fulfilling it, or a key
    with orders:read."""
    principal: Principal = info.context.principal
    locations = await orders.location_ids_of(info.context, order.id)
    return principal.may_see_order(order.member_id, locations)


async def _check_order(info: Info, value: str, argument: str, what: str, change: bool = False) -> bool:
    principal = _principal(info, what)
    found = await info.context.loaders.order_by_id.load(decode_id(value, "Order", argument))
    if found is None or found.status is OrderStatus.PENDING_PAYMENT:
        return True  # nothing to protect: the resolver answers that there is no such order
    if change:
        locations = await orders.location_ids_of(info.context, found.id)
        allowed = principal.may_change_order(found.member_id, locations)
    else:
        allowed = await may_see_order(info, found)
    if not allowed:
        raise Forbidden(f"not allowed to {what}")
    return True


class CanSeeOrder(BasePermission):
    """`order(id)`: the member who placed it, or staff of one of its locations. (A guest sees
    their order through the cart it came from: `cart(id) { order }`.)"""

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return await _check_order(info, kwargs["id"], "id", "see this order")


class CanCancelOrder(BasePermission):
    """orderCancel: the member who placed it, or staff of one of its locations."""

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return await _check_order(info, kwargs["order_id"], "orderId", "cancel this order", change=True)


class WorksAtFulfillmentLocation(BasePermission):
    """fulfillmentUpdateStatus: staff of the location fulfilling it (or orders:write)."""

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = _principal(info, "update fulfillments")
        fid = decode_id(kwargs["fulfillment_id"], "OrderFulfillment", "fulfillmentId")
        found = await info.context.loaders.fulfillment_by_id.load(fid)
        if found is None:
            if principal.kind is PrincipalKind.STAFF or principal.has_scope(Scope.ORDERS_WRITE):
                return True  # the resolver answers FULFILLMENT_NOT_FOUND
            raise Forbidden("only staff update fulfillments")
        if not principal.may_change_orders_at(found.location_id):
            raise Forbidden("only staff of the fulfilling location update it")
        return True


class SeesLocationOrders(BasePermission):
    """locationOrders: staff of `locationId` (every order listed has a fulfillment there, so
    they may see each one), or orders:read."""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = _principal(info, "see a location's orders")
        location_id = decode_id(kwargs["location_id"], "Location", "locationId")
        if not principal.works_at(location_id) and not principal.has_scope(Scope.ORDERS_READ):
            raise Forbidden("only staff of this location see its orders")
        return True


class WorksAtInputLocation(BasePermission):
    """storeSaleRecord, returnCreate: staff of `input.locationId` (or orders:write)."""

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = _principal(info, "record sales and returns")
        location_id = decode_id(kwargs["input"].location_id, "Location", "locationId")
        if not principal.may_change_orders_at(location_id):
            raise Forbidden("only staff of this location record its sales and returns")
        return True


class CanIssueGiftCards(BasePermission):
    """giftCardIssue: staff anywhere, or gift_cards:write."""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = _principal(info, "issue gift cards")
        if principal.kind is PrincipalKind.STAFF or principal.has_scope(Scope.GIFT_CARDS_WRITE):
            return True
        raise Forbidden("only staff issue gift cards")


class CanRunOutbox(BasePermission):
    """outboxDeadLetters, outboxReplay: back-office staff, i.e. a key with orders:write (store
    staff see only their own stores' orders; a dead letter can be any store's)."""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = _principal(info, "run the outbox")
        if principal.has_scope(Scope.ORDERS_WRITE):
            return True
        raise Forbidden("only back-office staff (the orders:write scope) run the outbox")


def check_cart(info: Info, cart: CartRecord) -> None:
    """The one rule for carts: a member's cart opens only for that member (and for staff of the
    store it was built at)."""
    principal: Principal = info.context.principal
    if principal.may_open_cart(cart.member_id, cart.location_id):
        return
    if not principal.is_authenticated:
        raise Unauthenticated("sign in to open this cart")
    raise Forbidden("this cart belongs to someone else")


class CanOpenCart(BasePermission):
    """The cart mutations, checkoutComplete: a member's cart is that member's alone."""

    argument, graphql_name = "cart_id", "cartId"

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        token = decode_str_id(kwargs[self.argument], "Cart", CART_TOKEN, self.graphql_name)
        found = await info.context.loaders.cart_by_token.load(token)
        if found is not None:
            check_cart(info, found)
        return True


class CanOpenCartById(CanOpenCart):
    """cart(id)."""

    argument, graphql_name = "id", "id"


class WorksAtCartLocation(BasePermission):
    """cartAssignMember: staff of the store the cart was built at (`CartCreateInput.locationId`);
    the cart must open for them as well."""

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = _principal(info, "attach carts to members")
        if principal.kind is not PrincipalKind.STAFF:
            raise Forbidden("only staff attach a store's cart to a member")
        token = decode_str_id(kwargs["cart_id"], "Cart", CART_TOKEN, "cartId")
        found = await info.context.loaders.cart_by_token.load(token)
        if found is None:
            return True  # the resolver answers CART_NOT_FOUND
        if found.location_id is None or not principal.works_at(found.location_id):
            raise Forbidden("only staff of the store this cart was built at attach it to a member")
        check_cart(info, found)
        return True


class IsMember(BasePermission):
    """A signed-in member (memberUpdate, cartAttachMember)."""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = _principal(info, "do this")
        if principal.kind is not PrincipalKind.MEMBER or principal.member_id is None:
            raise Forbidden("only a signed-in member may do this")
        return True


class IsThisMember(BasePermission):
    """Member.addresses, orders, loyalty, recommendations: the member themselves, or members:read
    (staff who see an order see who placed it, not the rest of that member's life)."""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = _principal(info, "see this member")
        if not principal.may_read_member(source.key):
            raise Forbidden("only the member may see this")
        return True


def check_member(info: Info, key: str) -> None:
    """node(id) of a Member: the member themselves, or members:read."""
    principal = _principal(info, "see this member")
    if not principal.may_read_member(key):
        raise Forbidden("only the member may see this")


class CanFollowOrders(BasePermission):
    """orderStatusChanged: members (their own orders), staff (their locations' orders; a given
    `locationId` must be theirs) and orders:read. Each event is authorized again."""

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = _principal(info, "follow orders")
        reads_all = principal.has_scope(Scope.ORDERS_READ)
        if principal.kind not in (PrincipalKind.MEMBER, PrincipalKind.STAFF) and not reads_all:
            raise Forbidden("only members, staff and order sync follow orders")
        if kwargs.get("location_id") is not None:
            location_id = decode_id(kwargs["location_id"], "Location", "locationId")
            if not principal.works_at(location_id) and not reads_all:
                raise Forbidden("only staff of this location follow its orders")
        if kwargs.get("order_id") is not None:
            return await _check_order(info, kwargs["order_id"], "orderId", "follow this order")
        return True


class CanHandlePrivacyRequest(BasePermission):
    """memberDataExport, memberErase: the member themselves (no `memberId`, or their own), or
    members:privacy (back-office staff, a privacy desk's integration)."""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = _principal(info, "ask for a member's data")
        member_id = kwargs.get("member_id")
        if member_id is None:
            if principal.kind is PrincipalKind.MEMBER or principal.has_scope(Scope.MEMBERS_PRIVACY):
                return True  # a member's own; the back office is answered "name the member"
            raise Forbidden("only a member or the back office asks for a member's data")
        key = decode_str_id(member_id, "Member", EXTERNAL_KEY, "memberId")
        if not principal.may_handle_privacy_of(key):
            raise Forbidden("only the member or the back office may ask for this member's data")
        return True


def check_marketing(info: Info) -> None:
    """Segments and the members in them, offers, marketing webhooks: the `marketing` scope
    (marketing staff's tokens, a marketing tool's key)."""
    principal = _principal(info, "manage marketing")
    if not principal.has_scope(Scope.MARKETING):
        raise Forbidden("only marketing (the marketing scope) may do this")


class CanManageMarketing(BasePermission):
    """segments, segmentCreate/Update/Delete (and the members a segment lists): `marketing`."""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        check_marketing(info)
        return True


class _HoldsScope(BasePermission):
    """A caller given one power: staff with that role, or a key or integration with that scope."""

    scope: Scope
    what: str

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = _principal(info, self.what)
        if not principal.has_scope(self.scope):
            raise Forbidden(f"only callers with {self.scope.value} may {self.what}")
        return True


class IsAnalyst(_HoldsScope):
    """`analytics`: analytics:read (the caller's own locations' figures) or analytics:all."""

    scope, what = Scope.ANALYTICS_READ, "read the analytics reports"


class IsHeadOfficeAnalyst(_HoldsScope):
    """`Analytics.loyalty`: analytics:all (the points liability belongs to no one store)."""

    scope, what = Scope.ANALYTICS_ALL, "read the company-wide figures"


class IsSupport(_HoldsScope):
    """`supportMember`, `supportTicket(s)`: support:read (or support:write)."""

    scope, what = Scope.SUPPORT_READ, "read members' support records"


class IsSupportAgent(_HoldsScope):
    """The support conversation mutations: support:write."""

    scope, what = Scope.SUPPORT_WRITE, "answer support conversations"


class IsAuditor(_HoldsScope):
    """`auditLog`: audit:read (admins)."""

    scope, what = Scope.AUDIT_READ, "read the audit log"


def _ticket_key(value: str, argument: str) -> int:
    return decode_id(value, "SupportTicket", argument)


async def _may_reach_ticket(info: Info, ticket_id: int, scope: Scope, what: str) -> bool:
    """Support with `scope`, or the member whose conversation it is."""
    principal = _principal(info, what)
    if principal.has_scope(scope):
        return True
    if principal.kind is PrincipalKind.MEMBER:
        found = await support.ticket(info.context, ticket_id)
        if found is None or principal.is_member(found.member_id):
            return True  # their own, or none: the resolver answers that there is no such ticket
    raise Forbidden(f"only support staff or the member may {what}")


class CanReadTicket(BasePermission):
    """supportTicket: support:read, or the member whose conversation it is."""

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        ticket_id = _ticket_key(kwargs["id"], "id")
        return await _may_reach_ticket(info, ticket_id, Scope.SUPPORT_READ, "read this conversation")


class CanAnswerTicket(BasePermission):
    """supportTicketReply: support:write, or the member whose conversation it is."""

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        ticket_id = _ticket_key(kwargs["ticket_id"], "ticketId")
        return await _may_reach_ticket(info, ticket_id, Scope.SUPPORT_WRITE, "answer this conversation")


class CanOpenTicket(BasePermission):
    """supportTicketOpen: support:write for any member, or a member for themselves."""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = _principal(info, "open support conversations")
        if principal.has_scope(Scope.SUPPORT_WRITE):
            return True
        member = decode_str_id(kwargs["input"].member_id, "Member", EXTERNAL_KEY, "memberId")
        if principal.kind is PrincipalKind.MEMBER and principal.is_member(member):
            return True
        raise Forbidden("only support staff, or the member themselves, open a conversation")
