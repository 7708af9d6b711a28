"""The one GraphQL schema: each domain's types and root fields, assembled."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
from collections.abc import Sequence
from typing import Any

import strawberry
import strawberry.federation
from graphql import (
    DirectiveLocation,
    GraphQLDeprecatedDirective,
    GraphQLDirective,
    GraphQLError,
    GraphQLSchema,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.types.base_scalars import DateDefinition, DateTimeDefinition, DecimalDefinition

from schema.analytics import AnalyticsQuery
from schema.cart import Cart, CartMutation, CartQuery
from schema.catalog import CatalogQuery, Product, ProductVariant
from schema.common import Channel
from schema.customer_lookup import CustomerLookupQuery
from schema.federation import entity_keys
from schema.gift_cards import GiftCardMutation, GiftCardQuery
from schema.inventory import InventoryMutation
from schema.live import Subscription
from schema.locations import Location, LocationQuery
from schema.members import Member, MemberMutation, MemberQuery
from schema.node import NodeQuery
from schema.offers import Offer, OfferMutation, OfferQuery
from schema.orders import Order, OrderMutation, OrderQuery
from schema.outbox import OutboxMutation, OutboxQuery
from schema.pricing import add_in_context
from schema.privacy import PrivacyMutation
from schema.returns import ReturnMutation
from schema.segments import Segment, SegmentMutation, SegmentQuery
from schema.support import SupportMutation, SupportQuery
from schema.triggers import TriggerMutation, TriggerQuery, WebhookEndpoint


@strawberry.type
class Query(
    NodeQuery,
    CatalogQuery,
    LocationQuery,
    CartQuery,
    OrderQuery,
    MemberQuery,
    SegmentQuery,
    OfferQuery,
    TriggerQuery,
    AnalyticsQuery,
    SupportQuery,
    GiftCardQuery,
    OutboxQuery,
    CustomerLookupQuery,
):
    pass


@strawberry.type
class Mutation(
    InventoryMutation,
    CartMutation,
    OrderMutation,
    ReturnMutation,
    GiftCardMutation,
    MemberMutation,
    PrivacyMutation,
    SegmentMutation,
    OfferMutation,
    TriggerMutation,
    SupportMutation,
    OutboxMutation,
):
    pass


# strawberry's own scalars (same serializers on both executors), with their formats written down
# and `@specifiedBy`, so that code generators and clients can map them to their own types.
SCALARS = {
    datetime.date: dataclasses.replace(
        DateDefinition,
        description='A calendar day: an RFC 3339 full-date string, e.g. "2026-11-23" (the analytics '
        "reports' days are UTC days).",
        specified_by_url="https://scalars.graphql.org/andimarek/local-date",
    ),
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


class QuietErrors:
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        # Expected errors are answers, not incidents; the gateway logs the unexpected ones.
        return None


class GatewaySchema(QuietErrors, strawberry.Schema):
    pass


# The newest Federation version the composition tools we test with know (The Guild's composition
# 0.27 stops at v2.9; strawberry would announce v2.11): the subgraph uses nothing newer than @key.
FEDERATION_VERSION = "2.9"


class FederatedSchema(QuietErrors, strawberry.federation.Schema):
    """The same schema as an Apollo Federation v2 subgraph (schema/federation.py)."""


def without_draft_locations(schema: GraphQLSchema) -> None:
    """graphql-core 3.3 lets `@deprecated` stand on directive definitions too (a draft of the
    spec) and says so in introspection; graphql-js 16, which most schema tools run on, cannot
    parse that location back from SDL (@graphql-codegen/cli failed on it). This schema deprecates
    no directive, so introspection shows the locations of the released spec."""
    draft = DirectiveLocation.DIRECTIVE_DEFINITION
    schema.directives = tuple(
        GraphQLDirective(
            d.name,
            [location for location in d.locations if location is not draft],
            d.args,
            d.is_repeatable,
            d.description,
        )
        if d is GraphQLDeprecatedDirective
        else d
        for d in schema.directives
    )


class WithoutSuggestions(StrawberryGraphQLCoreExecutionContext):
    """Leaves "Did you mean ...?" out of the errors of variables and arguments (what validation
    leaves out is the documents' business: gateway/protections/documents.py)."""

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> Any:
        kwargs["hide_suggestions"] = True
        return super().build(*args, **kwargs)


def build_schema(
    extensions: Sequence[Any] = (), *, federation: bool = False, hide_suggestions: bool = False
) -> strawberry.Schema:
    entity_keys(federation)
    built = (FederatedSchema if federation else GatewaySchema)(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[
            Product,
            ProductVariant,
            Location,
            Cart,
            Order,
            Member,
            Segment,
            Offer,
            WebhookEndpoint,
            Channel,
        ],
        extensions=list(extensions),
        scalar_overrides=SCALARS,
        execution_context_class=WithoutSuggestions if hide_suggestions else None,
        **({"federation_version": FEDERATION_VERSION} if federation else {}),
    )
    without_draft_locations(built._schema)
    add_in_context(built._schema)
    return built


__all__ = ["build_schema", "without_draft_locations"]
