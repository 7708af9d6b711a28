"""Who an order is for, as the ERP's order message needs it, and whether the ERP gets it.

A member's order takes the member's email, name and first address (an address given at
checkout wins); a guest gives them at checkout. With an order sink configured a guest must
give an email: the ERP keeps its customers by email. A till sale without a member goes to the
walk-in customer (`GATEWAY_WALK_IN_CUSTOMER_EMAIL`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from adapters.ports.orders import Buyer
from resolvers.user_errors import UserError

if TYPE_CHECKING:
    from adapters.records import Address
    from resolvers.context import ResolverContext


def pushes_to_erp(ctx: ResolverContext, *, till: bool) -> bool:
    """Every placed order goes to the order sink, a till sale only when the ERP wants those."""
    if ctx.upstreams.order_sink is None:
        return False
    return not till or ctx.policy.push_store_sales


async def of_member(ctx: ResolverContext, member_id: str | None) -> Buyer | None:
    if member_id is None:
        return None
    member = await ctx.loaders.member_by_key.load(member_id)
    if member is None or not member.email:
        return None
    address = member.addresses[0] if member.addresses else None
    return Buyer(member.email, member.first_name, member.last_name, member.phone, address)


async def for_checkout(
    ctx: ResolverContext, member_id: str | None, given: Buyer | None, address: Address | None
) -> Buyer | UserError | None:
    # A member's profile is read only when the ERP needs it: no CRM round trip otherwise.
    pushing = ctx.upstreams.order_sink is not None
    buyer = (await of_member(ctx, member_id) if pushing and given is None else None) or given
    if buyer is not None and address is not None:
        buyer = replace(buyer, shipping_address=address)
    if buyer is None and address is not None:
        buyer = Buyer("", shipping_address=address)
    if pushing and (buyer is None or not buyer.email):
        message = "give the buyer's email: the order is sent to the retailer's ERP with it"
        return UserError(["buyer", "email"], message, "BUYER_EMAIL_REQUIRED")
    if buyer is not None and buyer.email and "@" not in buyer.email:
        return UserError(["buyer", "email"], "this is not an email address", "INVALID")
    return buyer


async def for_store_sale(ctx: ResolverContext, member_id: str | None) -> Buyer | None:
    return await of_member(ctx, member_id) or Buyer(ctx.policy.walk_in_customer_email, "Walk-in", "Customer")
