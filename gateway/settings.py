"""One typed settings object, read from GATEWAY_* environment variables once at start."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.resilience import ResiliencePolicy
from resolvers.context import CommercePolicy

_ROLE = r"^[a-z][a-z0-9_]*$"  # "store", or the name of a package in adapters/ with connect()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Field(default=Path("omnigate-data"), description="where the embedded database lives")
    database_url: str | None = Field(
        default=None,
        description="postgresql+asyncpg://... for production; SQLite in data_dir if unset",
    )
    database_pool_size: int = 10
    seed_demo: bool = Field(default=True, description="seed the demo retailer into an empty database")
    redis_url: str | None = Field(
        default=None, description="redis://host:port/db to share caches (and events) between processes"
    )
    redis_prefix: str = Field(default="omnigate:", description="prefix of every key the gateway writes")
    integration_token: SecretStr | None = Field(
        default=None, description="bearer token for ERP/WMS integrations (stock adjustments)"
    )
    currency_code: str = "USD"
    max_page_size: int = Field(default=250, ge=1, le=1000)
    default_page_size: int = Field(default=50, ge=1)
    pickup_lead_time_minutes: int = Field(default=120, ge=0)
    default_radius_km: float = Field(default=50.0, gt=0)
    graphiql: bool = True
    compiled_execution: bool = Field(
        default=True, description="serve queries through the compiled path where possible"
    )
    response_cache: bool = Field(default=True, description="cache answers to public queries")
    entity_cache: bool = Field(default=True, description="keep catalog, location and stock records in memory")
    entity_cache_catalog_ttl_seconds: float = Field(default=300.0, gt=0)
    entity_cache_stock_ttl_seconds: float = Field(default=5.0, gt=0)
    entity_cache_max_entries: int = Field(default=100_000, ge=100)
    response_cache_ttl_seconds: int = Field(default=60, ge=1)
    log_level: str = "info"

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
        )
