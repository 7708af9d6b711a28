"""Members: `me`, their profile (read and written through the member-directory port), their
unified order history, signing in, and attaching a cart on sign-in. None of these types
declares cache topics: they are personal and never reach the response cache."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from adapters.records import Address as AddressRecord
from adapters.records import MemberChanges, MemberRecord
from resolvers import carts, loyalty, members, orders, recommendations
from resolvers.pagination import PageArgs
from resolvers.user_errors import UserError as UserErrorRecord
from schema.batch import batch, each, one
from schema.cart import Cart, _cart_token
from schema.common import Address, Channel, Node, PageInfo, UserError
from schema.ids import EXTERNAL_KEY, decode_id, decode_str_id, str_key, to_global_id
from schema.locations import Location
from schema.loyalty import LoyaltyAccount
from schema.orders import Order
from schema.permissions import CanOpenCart, IsMember, IsThisMember, WorksAtCartLocation, check_member

if TYPE_CHECKING:
    from schema.catalog import Product

ProductRef = Annotated["Product", strawberry.lazy("schema.catalog")]


# Batch resolvers (schema/batch.py), so that `me` with its orders and loyalty runs on the
# compiled path (each field's permission classes are still checked first, for every member).


async def _preferred_store(ctx: Any, member: MemberRecord) -> Any:
    if member.preferred_location_id is None:
        return None
    return await ctx.loaders.location_by_id.load(member.preferred_location_id)


async def _orders(ctx: Any, member: MemberRecord, first: int | None = None, after: str | None = None) -> Any:
    return await orders.member_orders(ctx, member.key, PageArgs(first=first, after=after))


async def _member_cart(ctx: Any, member: MemberRecord) -> Any:
    return await carts.member_cart(ctx, member.key)


async def _loyalty(ctx: Any, member: MemberRecord) -> Any:
    return await loyalty.account(ctx, member.key)


async def _recommendations(ctx: Any, member: MemberRecord, first: int | None = 8) -> Any:
    return await recommendations.member_recommendations(ctx, member.key, 8 if first is None else first)


@strawberry.type
class OrderEdge:
    cursor: str
    node: Order


@strawberry.type
class OrderConnection:
    edges: list[OrderEdge]
    nodes: list[Order]
    page_info: PageInfo


@strawberry.type(description="A shopper with an account: one profile on every channel.")
class Member(Node):
    record = MemberRecord

    email: str | None
    first_name: str
    last_name: str

    @strawberry.field
    def id(root: MemberRecord) -> strawberry.ID:
        return strawberry.ID(to_global_id("Member", root.key))

    @strawberry.field(permission_classes=[IsThisMember])
    def phone(root: MemberRecord) -> str | None:
        return root.phone

    @strawberry.field(permission_classes=[IsThisMember])
    def addresses(root: MemberRecord) -> list[Address]:
        return list(root.addresses)  # type: ignore[arg-type]

    @strawberry.field(permission_classes=[IsThisMember])
    def marketing_consent(root: MemberRecord) -> bool:
        return root.marketing_consent

    @strawberry.field(
        permission_classes=[IsThisMember],
        description="Where they like to shop.",
        metadata=batch(each(_preferred_store)),
    )
    async def preferred_store(root: MemberRecord, info: Info) -> Location | None:
        return await one(each(_preferred_store), info, root)  # type: ignore[no-any-return]

    @strawberry.field(
        permission_classes=[IsThisMember],
        description="The unified purchase history: web, app, store till and partner orders, newest first.",
        metadata=batch(each(_orders)),
    )
    async def orders(
        root: MemberRecord, info: Info, first: int | None = None, after: str | None = None
    ) -> OrderConnection:
        return await one(each(_orders), info, root, first=first, after=after)  # type: ignore[no-any-return]

    @strawberry.field(
        permission_classes=[IsThisMember],
        description="Their active cart, the same from every device: the open cart changed last "
        "(carts attached on sign-in merge into one, `cartAttachMember`).",
        metadata=batch(each(_member_cart)),
    )
    async def cart(root: MemberRecord, info: Info) -> Cart | None:
        return await one(each(_member_cart), info, root)  # type: ignore[no-any-return]

    @strawberry.field(
        permission_classes=[IsThisMember],
        description="Points and tier, every channel.",
        metadata=batch(each(_loyalty)),
    )
    async def loyalty(root: MemberRecord, info: Info) -> LoyaltyAccount:
        return await one(each(_loyalty), info, root)  # type: ignore[no-any-return]

    @strawberry.field(
        permission_classes=[IsThisMember],
        description="For this member: bought with what they bought on any channel, lifted by "
        "their favourite categories; never what they already have, only products for sale.",
        metadata=batch(each(_recommendations)),
    )
    async def recommendations(root: MemberRecord, info: Info, first: int | None = 8) -> list[ProductRef]:
        return await one(each(_recommendations), info, root, first=first)  # type: ignore[no-any-return]

    @classmethod
    def parse_key(cls, key: str, argument: str) -> Any:
        return str_key(key, EXTERNAL_KEY, argument)

    @classmethod
    async def resolve_nodes(cls, info: Info, keys: list[str]) -> list[MemberRecord | None]:
        for key in keys:
            check_member(info, key)
        return [await members.member(info.context, key) for key in keys]


@strawberry.input
class AddressInput:
    address1: str
    address2: str | None = None
    city: str
    province: str | None = None
    province_code: str | None = None
    zip: str | None = None
    country: str
    country_code: str
    phone: str | None = None

    def to_record(self) -> AddressRecord:
        return AddressRecord(
            self.address1, self.address2, self.city, self.province, self.province_code,
            self.zip, self.country, self.country_code, self.phone,
        )  # fmt: skip


@strawberry.input(description="Fields left out (or null) stay as they are.")
class MemberUpdateInput:
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    addresses: list[AddressInput] | None = None
    preferred_store_id: strawberry.ID | None = None
    marketing_consent: bool | None = None

    def to_record(self) -> MemberChanges:
        store = self.preferred_store_id
        return MemberChanges(
            first_name=self.first_name,
            last_name=self.last_name,
            phone=self.phone,
            addresses=None if self.addresses is None else tuple(a.to_record() for a in self.addresses),
            preferred_location_id=None if store is None else decode_id(store, "Location", "preferredStoreId"),
            marketing_consent=self.marketing_consent,
        )


@strawberry.type
class MemberUpdatePayload:
    member: Member | None
    user_errors: list[UserError]


@strawberry.type
class MemberLoginPayload:
    token: str | None = strawberry.field(description="A bearer JWT for the Authorization header.")
    member: Member | None
    user_errors: list[UserError]


@strawberry.type
class CartAttachMemberPayload:
    cart: Cart | None
    user_errors: list[UserError]


@strawberry.type
class CartAssignMemberPayload:
    cart: Cart | None
    user_errors: list[UserError]


@strawberry.type
class MemberQuery:
    @strawberry.field(description="The signed-in member; null for anyone else.")
    async def me(self, info: Info) -> Member | None:
        return await members.me(info.context)  # type: ignore[return-value]


@strawberry.type
class MemberMutation:
    @strawberry.mutation(
        description="Sign in with the email and password kept at the gateway. When the members "
        "are a CRM's (GATEWAY_CUSTOMERS), they sign in with it instead: userError "
        "SIGN_IN_UNAVAILABLE."
    )
    async def member_login(
        self,
        info: Info,
        email: str,
        password: str,
        channel: Annotated[
            Channel,  # type: ignore[valid-type]
            strawberry.argument(description="Where the member signs in (their support timeline shows it)."),
        ] = Channel.WEB,  # type: ignore[attr-defined]
    ) -> MemberLoginPayload:
        issue = info.context.issue_member_token
        if issue is None:
            refusal = UserErrorRecord(None, "this gateway does not issue tokens", "SIGN_IN_UNAVAILABLE")
            return MemberLoginPayload(token=None, member=None, user_errors=[refusal])  # type: ignore[list-item]
        result = await members.sign_in(info.context, email, password, channel.value)
        token = issue(result.member.key) if result.member is not None else None
        return MemberLoginPayload(token=token, member=result.member, user_errors=result.user_errors)  # type: ignore[arg-type]

    @strawberry.mutation(permission_classes=[IsMember], description="The signed-in member's profile.")
    async def member_update(self, info: Info, input: MemberUpdateInput) -> MemberUpdatePayload:
        result = await members.update_profile(info.context, input.to_record())
        return MemberUpdatePayload(member=result.member, user_errors=result.user_errors)  # type: ignore[arg-type]

    @strawberry.mutation(
        permission_classes=[IsMember, CanOpenCart],
        description="On sign-in: the cart becomes the member's; their earlier open carts (other "
        "devices) are merged into it (same variant and fulfillment: quantities add) and stay, "
        "status MERGED with `mergedInto` this cart, so their ids still answer and their "
        "`cartChanged` subscriptions follow this cart. Lines not priced in this cart's currency "
        "stay behind on the merged cart.",
    )
    async def cart_attach_member(self, info: Info, cart_id: strawberry.ID) -> CartAttachMemberPayload:
        result = await carts.attach_member(info.context, _cart_token(cart_id))
        return CartAttachMemberPayload(cart=result.cart, user_errors=result.user_errors)  # type: ignore[arg-type]

    @strawberry.mutation(
        permission_classes=[WorksAtCartLocation],
        description="Staff: attach the cart built at their store (a tablet's, `locationId`) to a "
        "customer, by member id or email, exactly as the customer's own `cartAttachMember`: their "
        "open carts on other devices merge into it, and it shows as `me.cart` everywhere.",
    )
    async def cart_assign_member(
        self, info: Info, cart_id: strawberry.ID, member_id: strawberry.ID | None = None,
        email: str | None = None,
    ) -> CartAssignMemberPayload:  # fmt: skip
        key = None if member_id is None else decode_str_id(member_id, "Member", EXTERNAL_KEY, "memberId")
        result = await carts.assign_member(info.context, _cart_token(cart_id), key, email)
        return CartAssignMemberPayload(cart=result.cart, user_errors=result.user_errors)  # type: ignore[arg-type]


__all__ = ["Member", "MemberMutation", "MemberQuery"]
