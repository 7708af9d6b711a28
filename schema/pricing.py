"""`@inContext`: the operation says where its caller shops, and the catalog's prices answer there.

It is declared on the graphql-core schema directly, not as a strawberry directive: strawberry
wraps every resolver call of a schema with custom directives in its DirectivesExtension (for
field directives), which this operation-level one has no use for, and which would keep every
query off the compiled path. The gateway reads it before the operation runs (gateway/pricing.py).
"""

from __future__ import annotations

from graphql import (
    DirectiveLocation,
    GraphQLArgument,
    GraphQLDirective,
    GraphQLEnumType,
    GraphQLID,
    GraphQLSchema,
    GraphQLString,
)

NAME = "inContext"
DESCRIPTION = (
    "Where the caller shops: the catalog's `price`, `compareAtPrice` and `priceRange` answer in "
    "this context (the signed-in member's tier applies too). The currency is `currency`, else the "
    "market of `country` (ISO 3166-1 alpha-2), else that of the store `location`'s country, else "
    "the shop's. A list naming the store and the tier beats one naming the store, which beats one "
    "naming the tier, then the channel, then the market default; ties go to the latest start. "
    "Without it prices are the catalog's own. A cart is always priced in its own context."
)


def add_in_context(schema: GraphQLSchema) -> None:
    """Declare @inContext on a built schema (its enums are the schema's own types)."""
    channel, currency = schema.get_type("Channel"), schema.get_type("CurrencyCode")
    assert isinstance(channel, GraphQLEnumType) and isinstance(currency, GraphQLEnumType)
    directive = GraphQLDirective(
        NAME,
        locations=[DirectiveLocation.QUERY, DirectiveLocation.MUTATION, DirectiveLocation.SUBSCRIPTION],
        args={
            "channel": GraphQLArgument(channel),
            "country": GraphQLArgument(GraphQLString),
            "currency": GraphQLArgument(currency),
            "location": GraphQLArgument(GraphQLID),
        },
        description=DESCRIPTION,
    )
    schema.directives = (*schema.directives, directive)
