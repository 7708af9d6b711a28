"""The checks both paths apply (strawberry's view and the compiled fast path), built once from
the settings; each check is its own module."""

from __future__ import annotations

from typing import Any

from graphql import DocumentNode
from redis.asyncio import Redis
from starlette.types import Scope

from gateway.protections.cost import CostModel, QueryCost, cost_rule, report
from gateway.protections.introspection import IntrospectionPolicy, Introspects, may_introspect
from gateway.protections.limits import IntrospectionListsRule, Limits, limits_rule
from gateway.protections.persisted import PersistedDocument, PersistedDocuments, load_manifest
from gateway.protections.rate_limit import STATE_KEY, Decision, RateLimit, RateLimiter
from gateway.settings import Settings
from gateway.transport.middleware import client_address
from resolvers.principal import Principal, PrincipalKind


class Protections:
    """The checks both paths apply, built once from the settings (each one is its own module)."""

    def __init__(self, settings: Settings, schema: Any, redis: Redis | None) -> None:
        dev = settings.dev_mode
        policy = settings.commerce_policy()
        self.limits = Limits(
            settings.max_depth,
            settings.max_aliases,
            settings.max_root_fields,
            settings.max_introspection_depth,
        )
        self.cost = CostModel(
            schema,
            settings.cost_weights,
            settings.cost_list_size,
            policy.default_page_size,
            policy.max_page_size,
        )
        self.max_cost = settings.max_cost
        manifest = load_manifest(settings.trusted_documents) if settings.trusted_documents else None
        self.persisted = PersistedDocuments(
            manifest,
            settings.trusted_documents_mode if manifest is not None else "off",
            apq=settings.persisted_queries,
            redis=redis,
            prefix=settings.redis_prefix,
        )
        self.introspects = Introspects()
        self.may_introspect = (lambda _principal: True) if dev else may_introspect
        limits = {
            PrincipalKind.ANONYMOUS: settings.rate_limit_anonymous,
            PrincipalKind.MEMBER: settings.rate_limit_member,
            PrincipalKind.PARTNER: settings.rate_limit_partner,
            PrincipalKind.STAFF: settings.rate_limit_staff,
        }
        self.limiter = RateLimiter(
            {} if dev else limits, settings.rate_limit_period_seconds, redis, settings.redis_prefix
        )

    def rules(self) -> list[Any]:
        return [limits_rule(self.limits), IntrospectionListsRule, cost_rule(self.cost, self.max_cost)]

    def extensions(self) -> list[Any]:
        return [
            lambda: PersistedDocument(self.persisted),
            lambda: IntrospectionPolicy(self.introspects, self.may_introspect),
            lambda: QueryCost(self.cost, self.max_cost),
            lambda: RateLimit(self.limiter, self.cost_of),
        ]

    def cost_of(self, ec: Any) -> int:
        return self.cost.cost(ec.graphql_document, ec.operation_name, ec.variables)

    def cost_report(self, cost: int) -> dict[str, int]:
        return report(cost, self.max_cost)

    def refuses_introspection(self, scope: Scope, document: DocumentNode) -> bool:
        principal: Principal = scope["user"]
        return self.introspects(document) and not self.may_introspect(principal)

    async def charge(self, scope: Scope, cost: int) -> Decision | None:
        decision = await self.limiter.charge(scope["user"], client_address(scope), cost)
        scope.setdefault("state", {})[STATE_KEY] = decision
        return decision

    def headers(self, decision: Decision | None) -> list[tuple[bytes, bytes]]:
        if decision is None:
            return []
        return [(k.lower().encode(), v.encode()) for k, v in decision.headers(self.limiter.period)]
