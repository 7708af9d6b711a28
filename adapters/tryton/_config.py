"""Connection settings, read from GATEWAY_TRYTON_* (or given directly in tests)."""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class TrytonConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_TRYTON_", extra="ignore")

    url: str = "http://127.0.0.1:8000"  # trytond's web listener
    database: str = "tryton"
    user: str = "admin"
    password: SecretStr = SecretStr("")
    warehouse: str | None = None  # code of the warehouse orders ship from when none is given
    # What the gateway sells from: `on_hand` (quantity) or `forecast` (quantity less what
    # Tryton has promised, e.g. sales entered in Tryton itself).
    stock: Literal["on_hand", "forecast"] = "on_hand"
