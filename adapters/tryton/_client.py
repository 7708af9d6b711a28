"""Tryton's JSON-RPC over httpx: session login, Tryton's typed JSON, errors mapped.

Every call goes through the upstream's guard once, here: reads (search, read) are retried,
writes are not. The company goes into every call's context, or Tryton answers prices as null.
"""

from __future__ import annotations

import base64
import itertools
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import httpx

from adapters.resilience import Guard
from adapters.tryton._config import TrytonConfig
from adapters.tryton._exceptions import TrytonAuthError, TrytonUnavailable, TrytonUserError

_READS = {"search", "search_read", "read", "search_count", "fields_get"}


def encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, datetime):
        return {
            "__class__": "datetime",
            **{f: getattr(value, f) for f in ("year", "month", "day", "hour", "minute", "second")},
            "microsecond": value.microsecond,
        }
    if isinstance(value, date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    return value


def _decode(obj: dict[str, Any]) -> Any:
    kind = obj.get("__class__")
    if kind == "Decimal":
        return Decimal(obj["decimal"])
    if kind == "datetime":
        fields = ("year", "month", "day", "hour", "minute", "second", "microsecond")
        return datetime(*(obj.get(f, 0) for f in fields))
    if kind == "date":
        return date(obj["year"], obj["month"], obj["day"])
    if kind == "bytes":
        return base64.b64decode(obj["base64"])
    return obj


class TrytonClient:
    def __init__(self, config: TrytonConfig, guard: Guard, http: httpx.AsyncClient) -> None:
        self._config = config
        self._guard = guard
        self._http = http
        self.url = config.url
        self._rpc = f"{config.url.rstrip('/')}/{config.database}/rpc/"
        self._session: str | None = None
        self._ids = itertools.count(1)
        self.company: int | None = None
        self.currency_code = "USD"

    async def model(self, model: str, method: str, *params: Any, context: Any = None) -> Any:
        """`model.<model>.<method>(*params, context)`, the company always in the context."""
        ctx = {**(context or {})}
        if self.company is None:
            await self._login()
        ctx.setdefault("company", self.company)
        name = f"model.{model}.{method}"
        return await self._guard.call(lambda: self._call(name, [*params, ctx]), idempotent=method in _READS)

    async def search_read(
        self,
        model: str,
        domain: list[Any],
        fields: list[str],
        *,
        offset: int = 0,
        limit: int | None = None,
        order: list[list[str]] | None = None,
        context: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        return await self.model(  # type: ignore[no-any-return]
            model, "search_read", domain, offset, limit, order, fields, context=context
        )

    async def _login(self) -> None:
        async def login() -> None:
            user_id = await self._login_raw()
            [user] = await self._post(
                "model.res.user.read", [[user_id], ["company", "company.currency.code"], {}]
            )
            self.company = user["company"]
            self.currency_code = (
                (user.get("company.") or {}).get("currency.", {}).get("code", self.currency_code)
            )

        await self._guard.call(login, idempotent=True)

    async def _call(self, method: str, params: list[Any]) -> Any:
        try:
            return await self._post(method, params)
        except TrytonAuthError:
            self._session = None  # the session expired (server restart): log in once more
            await self._login_raw()
            return await self._post(method, params)

    async def _login_raw(self) -> int:
        password = self._config.password.get_secret_value()
        result = await self._post("common.db.login", [self._config.user, {"password": password}], auth=False)
        if not result:
            raise TrytonAuthError("tryton refused the login")
        raw = f"{self._config.user}:{result[0]}:{result[1]}".encode()
        self._session = "Session " + base64.b64encode(raw).decode()
        return int(result[0])

    async def _post(self, method: str, params: list[Any], *, auth: bool = True) -> Any:
        headers = {"Authorization": self._session} if auth and self._session else {}
        body = {"id": next(self._ids), "method": method, "params": encode(params)}
        try:
            response = await self._http.post(self._rpc, json=body, headers=headers)
        except httpx.TransportError as exc:
            raise TrytonUnavailable(f"tryton: {type(exc).__name__}: {exc}") from exc
        if response.status_code in (401, 403):
            raise TrytonAuthError(f"tryton refused the session ({response.status_code})")
        if response.status_code >= 500:
            raise TrytonUnavailable(f"tryton answered {response.status_code}")
        if response.status_code >= 400:
            raise TrytonUserError("HTTPError", f"{response.status_code} {response.text[:200]}")
        payload = json.loads(response.content, object_hook=_decode)
        error = payload.get("error")
        if error:
            kind = error[0] if isinstance(error, list) else "Error"
            detail = error[1] if isinstance(error, list) and len(error) > 1 else error
            message = detail[0] if isinstance(detail, list) and detail else str(detail)
            raise TrytonUserError(str(kind), str(message))
        return payload.get("result")
