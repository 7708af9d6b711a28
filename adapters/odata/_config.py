"""Connection settings, read from GATEWAY_ODATA_* (or given directly in tests)."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ODataConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_ODATA_", extra="ignore")

    url: str = "http://127.0.0.1:4004/sap/opu/odata/sap"  # the services live below it
    user: str | None = None
    password: SecretStr | None = None
    sap_client: str | None = None  # sent as ?sap-client= on every request when set
    # SAP plants to the gateway's location codes, "1010=SEA-PIKE,1020=PDX-PEARL"; unmapped
    # plants keep their own code.
    plants: str = ""
    language: str = "EN"
    sales_order_type: str = "OR"
    sales_organization: str = "1010"
    distribution_channel: str = "10"
    division: str = "00"
    page_size: int = 500  # $top per page
    keys_per_filter: int = 40  # keys OR-ed into one $filter; keeps URLs short

    def plant_codes(self) -> dict[str, str]:
        pairs = (p.split("=", 1) for p in self.plants.split(",") if "=" in p)
        return {plant.strip(): code.strip() for plant, code in pairs}
