"""The one GraphQL schema: each domain's types and root fields, assembled."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
from collections.abc import Sequence
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.schema.types.base_scalars import DateTimeDefinition, DecimalDefinition

from schema.cart import Cart, CartMutation, CartQuery
from schema.catalog import CatalogQuery, Product, ProductVariant
from schema.common import Channel
from schema.gift_cards import GiftCardMutation
from schema.inventory import InventoryMutation
from schema.live import Subscription
from schema.locations import Location, LocationQuery
from schema.members import Member, MemberMutation, MemberQuery
from schema.node import NodeQuery
from schema.orders import Order, OrderMutation, OrderQuery
from schema.returns import ReturnMutation


@strawberry.type
class Query(NodeQuery, CatalogQuery, LocationQuery, CartQuery, OrderQuery, MemberQuery):
    pass


@strawberry.type
class Mutation(
    InventoryMutation, CartMutation, OrderMutation, ReturnMutation, GiftCardMutation, MemberMutation
):
    pass


# strawberry's own scalars (same serializers on both executors), with their formats written down
# and `@specifiedBy`, so that code generators and clients can map them to their own types.
SCALARS = {
    datetime.datetime: dataclasses.replace(
        DateTimeDefinition,
        description="A moment in time: an RFC 3339 date-time string with its UTC offset, "
        'e.g. "2026-11-23T14:05:00+00:00" (fractions of a second when there are any).',
        specified_by_url="https://scalars.graphql.org/andimarek/date-time",
    ),
    decimal.Decimal: dataclasses.replace(
        DecimalDefinition,
        description='An exact decimal number as a string, e.g. "19.90" (never a float): money '
        "amounts keep their minor units. Input also accepts a number.",
        specified_by_url="https://speleotrove.com/decimal/daconvs.html#reftostr",
    ),
}


class GatewaySchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        # Expected errors are answers, not incidents; the gateway logs the unexpected ones.
        return None


def build_schema(extensions: Sequence[Any] = ()) -> strawberry.Schema:
    return GatewaySchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Product, ProductVariant, Location, Cart, Order, Member, Channel],
        extensions=list(extensions),
        scalar_overrides=SCALARS,
    )


__all__ = ["build_schema"]
