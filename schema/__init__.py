"""The one GraphQL schema: each domain's types and root fields, assembled."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry
from graphql import GraphQLError

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
from schema.pricing import add_in_context
from schema.returns import ReturnMutation


@strawberry.type
class Query(NodeQuery, CatalogQuery, LocationQuery, CartQuery, OrderQuery, MemberQuery):
    pass


@strawberry.type
class Mutation(
    InventoryMutation, CartMutation, OrderMutation, ReturnMutation, GiftCardMutation, MemberMutation
):
    pass


class GatewaySchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        # Expected errors are answers, not incidents; the gateway logs the unexpected ones.
        return None


def build_schema(extensions: Sequence[Any] = ()) -> strawberry.Schema:
    schema = GatewaySchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Product, ProductVariant, Location, Cart, Order, Member, Channel],
        extensions=list(extensions),
    )
    add_in_context(schema._schema)
    return schema


__all__ = ["build_schema"]
