"""One typed settings object, read from GATEWAY_* environment variables once at start."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.faults import POINTS
from adapters.resilience import ResiliencePolicy
from resolvers.context import CommercePolicy
from resolvers.loyalty_program import LoyaltyProgram
from resolvers.principal import STAFF_SCOPES, Scope

_ROLE = r"^[a-z][a-z0-9_]*$"  # "store", or the name of a package in adapters/ with connect()


# A value that fails validation is not echoed in the error: it may be a token or a password.
_QUIET = ConfigDict(hide_input_in_errors=True)


class PartnerKey(BaseModel):
    model_config = _QUIET

    sha256: str = Field(
        pattern=r"^[0-9a-fA-F]{64}$", description="hex sha256 of the key the partner sends as a bearer token"
    )
    scopes: list[str] = Field(default_factory=list, description="e.g. schema:read, inventory:write")


class IntegrationKey(BaseModel):
    """A system of record's token (ERP, WMS, CRM, POS), kept as its sha256, with the scopes it
    needs and no more."""

    model_config = _QUIET

    sha256: str = Field(
        pattern=r"^[0-9a-fA-F]{64}$", description="hex sha256 of the bearer token the integration sends"
    )
    scopes: list[Scope] = Field(
        default_factory=lambda: [Scope.INVENTORY_WRITE], description="default: stock counts and receipts only"
    )


class StaffToken(BaseModel):
    """A store or warehouse employee's bearer token (a placeholder until staff sign-in)."""

    model_config = _QUIET

    token: SecretStr
    subject: str = Field(description='a stable name for audit trails, e.g. "staff:ana"')
    location_ids: list[int] = Field(description="where they work")
    scopes: list[Scope] = Field(
        default_factory=list, description="their roles: analytics:read|all, support:read|write, audit:read"
    )

    @field_validator("scopes")
    @classmethod
    def _staff_roles_only(cls, scopes: list[Scope]) -> list[Scope]:
        others = [scope.value for scope in scopes if scope.value not in STAFF_SCOPES]
        if others:
            raise ValueError(f"staff tokens take staff roles only, not {', '.join(others)}")
        return scopes


class MemberToken(BaseModel):
    """A member's bearer token (a placeholder until the members issue signs members in)."""

    model_config = _QUIET

    token: SecretStr
    member_id: str


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", hide_input_in_errors=True)

    host: str = "127.0.0.1"
    port: int = 8000
    forwarded_allow_ips: str = Field(
        default="",
        description="proxies whose X-Forwarded-For/-Proto `omnigate serve` trusts: comma-separated "
        "addresses or networks, `*` for any; empty: none (the client is the TCP peer)",
    )
    data_dir: Path = Field(default=Path("omnigate-data"), description="where the embedded database lives")
    database_url: str | None = Field(
        default=None,
        description="postgresql+asyncpg://... for production; SQLite in data_dir if unset",
    )
    database_pool_size: int = 10
    seed_demo: bool | None = Field(
        default=None,
        description="seed the demo retailer (and its demo accounts) into an empty database "
        "(None: in dev mode only, and never when an upstream owns the catalog; production "
        "seeds only when this is true)",
    )
    redis_url: str | None = Field(
        default=None, description="redis://host:port/db to share caches (and events) between processes"
    )
    redis_prefix: str = Field(default="omnigate:", description="prefix of every key the gateway writes")
    database_notifications: bool = Field(
        default=True,
        description="on PostgreSQL: hear stock and catalog rows written around the gateway (LISTEN/NOTIFY)",
    )
    integration_token: SecretStr | None = Field(
        default=None, description="bearer token of one integration that posts stock counts and receipts"
    )
    integrations: dict[str, IntegrationKey] = Field(
        default_factory=dict, description='name -> {"sha256": ..., "scopes": [...]}, as JSON'
    )
    currency_code: str = "USD"
    max_page_size: int = Field(default=250, ge=1, le=1000)
    default_page_size: int = Field(default=50, ge=1)
    pickup_lead_time_minutes: int = Field(default=120, ge=0)
    default_radius_km: float = Field(default=50.0, gt=0)
    graphiql: bool | None = Field(
        default=None, description="GraphiQL for browsers at /graphql (None: in dev mode only)"
    )
    console: bool | None = Field(
        default=None, description="the store console for tablets at /console (None: in dev mode only)"
    )
    compiled_execution: bool = Field(
        default=True, description="serve queries through the compiled path where possible"
    )
    compiled_verify: bool = Field(
        default=False,
        description="also run every compiled answer through the standard executor; serve the standard "
        "answer and log an error when they differ (the test suite; a canary)",
    )
    response_cache: bool = Field(default=True, description="cache answers to public queries")
    entity_cache: bool = Field(default=True, description="keep catalog, location and stock records in memory")
    entity_cache_catalog_ttl_seconds: float = Field(default=300.0, gt=0)
    entity_cache_stock_ttl_seconds: float = Field(default=5.0, gt=0)
    entity_cache_max_entries: int = Field(default=100_000, ge=100)
    response_cache_ttl_seconds: int = Field(default=60, ge=1)
    gc_freeze: bool | None = Field(
        default=None,
        description="after start, freeze the heap out of the cyclic GC and collect less often "
        "(None: on under `omnigate serve`, off when the app is embedded)",
    )
    log_level: str = "info"
    subscription_queue_size: int = Field(
        default=100, ge=1, description="events a subscriber may fall behind before it is dropped"
    )
    shutdown_grace_seconds: float = Field(
        default=10.0,
        ge=0,
        description="on SIGTERM, how long requests in flight may take to finish before they are cut",
    )
    websocket_compression: bool = Field(
        default=False, description="permessage-deflate on websockets (costs CPU and ~64 KiB per socket)"
    )
    # JSON lists, e.g. [{"token": "...", "subject": "staff:ana", "location_ids": [1, 2]}]
    staff_tokens: list[StaffToken] = Field(default_factory=list)
    member_tokens: list[MemberToken] = Field(default_factory=list)
    # Member and staff JWTs: an HS256 secret (the gateway then issues tokens too), and/or RS256
    # keys of an identity provider as a JWKS file or URL.
    jwt_secret: SecretStr | None = Field(default=None, description="HS256 key of member/staff JWTs")
    jwt_jwks: str | None = Field(default=None, description="JWKS file path or URL for RS256 JWTs")
    jwt_jwks_refetch_seconds: float = Field(
        default=60.0, ge=0, description="an unknown `kid` refetches the JWKS at most this often"
    )
    jwt_issuer: str | None = Field(default=None, description="required `iss` of every JWT")
    jwt_audience: str | None = Field(default=None, description="required `aud` of every JWT")
    jwt_ttl_minutes: int = Field(default=60 * 24, ge=1, description="lifetime of tokens the gateway issues")
    loyalty_points_per_unit: int = Field(
        default=1, ge=0, description="loyalty points earned per whole currency unit spent"
    )
    loyalty_currency_rates: dict[str, Decimal] = Field(
        default_factory=dict,
        description="JSON: currency -> shop-currency units one unit of it counts for in loyalty "
        '(points and tier spend), e.g. {"CAD": "0.73"}; an order in a currency not listed earns '
        "no points and no tier spend (rates are never guessed)",
    )
    loyalty_tiers: dict[str, int] = Field(
        default_factory=lambda: {"SILVER": 500, "GOLD": 2000},
        description="tier -> rolling 12-month spend (whole currency units) from which it applies, as JSON",
    )
    cart_ttl_days: float = Field(default=30, gt=0)
    cart_hold_minutes: float = Field(default=15, gt=0)
    reserve_hold_hours: float = Field(default=48, gt=0)
    max_cart_lines: int = Field(default=100, ge=1, le=250)
    reservation_sweep_seconds: float = Field(
        default=30, ge=0, description="how often expired holds are released; 0 turns it off"
    )
    checkout_stale_minutes: float = Field(default=10, gt=0)
    checkout_wait_seconds: float = Field(
        default=15, ge=0, description="a retried idempotency key waits this long for the first call"
    )
    payment_provider: str = Field(default="test", description="the card processor adapter")
    payments_test_decline_all: bool = Field(
        default=False, description="the test card provider declines every charge"
    )
    payments_test_ledger: Path | None = Field(
        default=None, description="SQLite file where the test card provider keeps its charges"
    )
    payments_test_latency_ms: float = Field(
        default=0, ge=0, description="how long each call to the test card provider takes (benchmarks)"
    )
    # Test mode only (the test card provider): the process SIGKILLs itself at this point of a
    # checkout (adapters/faults.py); the crash tests use it.
    test_fault: str | None = Field(default=None, description="a checkout fault point, tests only")
    # Load shedding: past this many GraphQL requests in flight, a request waits at most
    # `overload_queue_seconds` for a slot, then gets 503 with Retry-After (0: no limit).
    max_concurrent_requests: int = Field(default=64, ge=0, description="GraphQL requests in flight")
    overload_queue_seconds: float = Field(default=2.0, ge=0, description="longest wait for a slot")

    # Production protections (issue 6). `dev` unset means: dev mode exactly when the embedded
    # SQLite demo runs (no GATEWAY_DATABASE_URL), so the quick start has an open GraphiQL.
    dev: bool | None = Field(
        default=None, description="permissive mode: introspection for all, no rate limits"
    )
    max_request_bytes: int = Field(default=256 * 1024, ge=1024, description="larger bodies get 413")
    max_header_bytes: int = Field(
        default=32 * 1024, ge=1024, description="a request's headers in all; past it: 431"
    )
    max_headers: int = Field(default=100, ge=10, description="headers a request may have; past it: 431")
    max_credential_chars: int = Field(
        default=8192, ge=64, description="longest bearer token or API key looked at (longer: UNAUTHENTICATED)"
    )
    max_document_chars: int = Field(default=50_000, ge=100, description="longest GraphQL document")
    max_tokens: int = Field(default=4000, ge=10, description="most tokens in a document")
    max_depth: int = Field(default=12, ge=1, description="deepest field nesting")
    max_aliases: int = Field(default=50, ge=0, description="most aliases in an operation")
    max_root_fields: int = Field(default=20, ge=1, description="most top-level fields in an operation")
    federation: bool = Field(
        default=False, description="serve as an Apollo Federation v2 subgraph (_service, _entities)"
    )
    max_introspection_depth: int = Field(
        default=20, ge=3, description="deepest nesting under __schema/__type (its own limit, not max_depth)"
    )
    max_cost: int = Field(
        default=100_000, ge=1, description="highest estimated cost (a 250-product page with stock fits)"
    )
    cost_list_size: int = Field(default=10, ge=1, description="assumed size of a list with no first/last")
    cost_weights: dict[str, int] = Field(
        default_factory=dict, description='cost overrides by "Type" or "Type.field", as JSON'
    )
    persisted_queries: bool = Field(default=True, description="Automatic Persisted Queries (sha256)")
    trusted_documents: Path | None = Field(default=None, description="JSON manifest of hash -> document")
    trusted_documents_mode: Literal["off", "log", "enforce"] = Field(
        default="enforce", description="with a manifest: refuse (enforce) or only log (log) other documents"
    )
    rate_limit_period_seconds: int = Field(default=60, ge=1)
    rate_limit_anonymous: int = Field(default=1_000_000, ge=0, description="cost points per period per IP")
    rate_limit_member: int = Field(default=2_000_000, ge=0, description="cost points per period per member")
    rate_limit_partner: int = Field(default=5_000_000, ge=0, description="cost points per period per key")
    rate_limit_staff: int = Field(default=0, ge=0, description="0: unlimited")
    sign_in_failures_per_account: int = Field(
        default=10, ge=0, description="failed memberLogin attempts per account and period (0: no limit)"
    )
    sign_in_failures_per_address: int = Field(
        default=100, ge=0, description="failed memberLogin attempts per client address and period (0: none)"
    )
    sign_in_period_seconds: int = Field(default=900, ge=1, description="the sign-in throttle's window")
    partner_keys: dict[str, PartnerKey] = Field(
        default_factory=dict, description='partner name -> {"sha256": ..., "scopes": [...]}, as JSON'
    )
    cors_origins: list[str] = Field(default_factory=list, description="origins allowed by CORS, as JSON")
    metrics: bool | None = Field(
        default=None,
        description="Prometheus metrics (None: in dev mode, or when a metrics token or port is set)",
    )
    metrics_token: SecretStr | None = Field(
        default=None, description="bearer token Prometheus must send for /metrics on the API's port"
    )
    metrics_port: int | None = Field(
        default=None, ge=1, le=65535, description="serve /metrics on this port instead of the API's"
    )
    metrics_host: str | None = Field(default=None, description="the metrics port's address (default: host)")
    log_format: Literal["json", "text"] = Field(default="json", description="log lines as JSON or text")
    tracing: bool = Field(default=False, description="OpenTelemetry spans (needs the otel extra)")
    # Which system of record plays each role; `store` is the gateway's own database.
    catalog: str = Field(default="store", pattern=_ROLE, description="catalog read-model source")
    inventory: str = Field(default="store", pattern=_ROLE, description="stock read-model source")
    customers: str = Field(default="store", pattern=_ROLE, description="member directory (CRM)")
    orders: str = Field(default="store", pattern=_ROLE, description="where orders are pushed")
    # Resilience around every upstream call.
    upstream_timeout_s: float = Field(default=5.0, gt=0)
    upstream_read_retries: int = Field(default=2, ge=0)
    upstream_concurrency: int = Field(default=8, ge=1)
    breaker_threshold: int = Field(default=5, ge=1)
    breaker_reset_s: float = Field(default=30.0, gt=0)
    # Change feeds and the outbox.
    sync_interval_s: float = Field(default=30.0, ge=0, description="0: no background polling")
    stale_after_s: float = Field(default=120.0, gt=0)
    outbox_interval_s: float = Field(default=5.0, ge=0, description="0: no background worker")
    webhook_secret: SecretStr | None = Field(
        default=None, description="HMAC-SHA256 key for /webhooks/<upstream>"
    )
    webhook_tolerance_s: int = Field(default=300, gt=0)

    @field_validator("currency_code")
    @classmethod
    def _upper(cls, value: str) -> str:
        if len(value) != 3 or not value.isalpha():
            raise ValueError("an ISO 4217 code such as USD")
        return value.upper()

    @model_validator(mode="after")
    def _faults_only_in_test_mode(self) -> Settings:
        if self.test_fault is not None:
            if self.payment_provider != "test":
                raise ValueError("GATEWAY_TEST_FAULT needs the test card provider (it is for tests only)")
            if self.test_fault not in POINTS:
                raise ValueError(f"GATEWAY_TEST_FAULT is one of {', '.join(POINTS)}")
        return self

    @property
    def dev_mode(self) -> bool:
        return self.dev if self.dev is not None else self.database_url is None

    @property
    def serves_graphiql(self) -> bool:
        return self.graphiql if self.graphiql is not None else self.dev_mode

    @property
    def serves_console(self) -> bool:
        return self.console if self.console is not None else self.dev_mode

    @property
    def metrics_enabled(self) -> bool:
        """Public /metrics is a dev-mode default; production needs a token, a port of their own,
        or an explicit GATEWAY_METRICS=true."""
        if self.metrics is not None:
            return self.metrics
        return self.dev_mode or self.metrics_token is not None or self.metrics_port is not None

    @property
    def seeds_demo(self) -> bool:
        """Demo data (with its published demo passwords) only in dev mode, unless asked for; and
        not in front of an ERP's catalog, whose products the demo's would sell beside."""
        if self.seed_demo is not None:
            return self.seed_demo
        return self.dev_mode and self.catalog == "store"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'omnigate.db').resolve()}"

    def resilience_policy(self) -> ResiliencePolicy:
        return ResiliencePolicy(
            timeout=self.upstream_timeout_s,
            read_retries=self.upstream_read_retries,
            concurrency=self.upstream_concurrency,
            breaker_threshold=self.breaker_threshold,
            breaker_reset=self.breaker_reset_s,
        )

    def commerce_policy(self) -> CommercePolicy:
        return CommercePolicy(
            currency_code=self.currency_code,
            max_page_size=self.max_page_size,
            default_page_size=min(self.default_page_size, self.max_page_size),
            default_radius_km=self.default_radius_km,
            pickup_lead_time=timedelta(minutes=self.pickup_lead_time_minutes),
            cart_ttl=timedelta(days=self.cart_ttl_days),
            cart_hold=timedelta(minutes=self.cart_hold_minutes),
            reserve_hold=timedelta(hours=self.reserve_hold_hours),
            max_cart_lines=self.max_cart_lines,
            checkout_stale=timedelta(minutes=self.checkout_stale_minutes),
            checkout_wait=timedelta(seconds=self.checkout_wait_seconds),
            loyalty=LoyaltyProgram(
                points_per_unit=self.loyalty_points_per_unit,
                currency=self.currency_code,
                rates=tuple(sorted(self.loyalty_currency_rates.items())),
                tiers=tuple(sorted(self.loyalty_tiers.items(), key=lambda t: -t[1])),
            ),
        )
