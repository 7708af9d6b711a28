"""An OData client with SAP's habits, over httpx, every request through the upstream's guard.

V2 (`{"d": {"results": [...]}}`, `__next`, `/Date(ms)/`) and V4 (`{"value": [...]}`,
`@odata.nextLink`) envelopes; `$filter` batches of keys; paging by next link or `$skip`/`$top`;
`$batch` of GETs in one round trip; a CSRF token fetched before writes and fetched again when
SAP answers 403 `x-csrf-token: Required`; `If-Match` with the entity's ETag on updates.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from adapters.odata._exceptions import (
    ODataNotFound,
    ODataPreconditionFailed,
    ODataRejected,
    ODataUnavailable,
)
from adapters.resilience import Guard

_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def parse_date(value: Any) -> datetime | None:
    """V2 `/Date(ms+0000)/` or an ISO string, as an aware UTC datetime."""
    if not value:
        return None
    match = _DATE.match(str(value))
    if match:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def any_of(field: str, values: Iterable[str]) -> str:
    return "(" + " or ".join(f"{field} eq {literal(v)}" for v in values) + ")"


def rows_of(payload: dict[str, Any]) -> list[dict[str, Any]]:
    if "d" in payload:
        d = payload["d"]
        return d["results"] if isinstance(d, dict) and "results" in d else [d]
    return payload.get("value", [payload])


def next_link(payload: dict[str, Any]) -> str | None:
    d = payload.get("d")
    if isinstance(d, dict) and d.get("__next"):
        return str(d["__next"])
    return payload.get("@odata.nextLink")


class ODataClient:
    def __init__(
        self,
        base_url: str,
        guard: Guard,
        http: httpx.AsyncClient,
        *,
        sap_client: str | None = None,
        page_size: int = 500,
        keys_per_filter: int = 40,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._guard = guard
        self._http = http
        self._client_param = f"sap-client={quote(sap_client)}" if sap_client else ""
        self._page = page_size
        self.keys_per_filter = keys_per_filter
        self._tokens: dict[str, str] = {}  # service -> CSRF token

    def _url(self, service: str, path: str) -> str:
        url = f"{self._base}/{service}/{path}"
        if self._client_param:  # always or never: SAP keeps one copy of the data per client
            url += ("&" if "?" in url else "?") + self._client_param
        return url

    async def get_all(
        self,
        service: str,
        entity_set: str,
        *,
        filter: str | None = None,
        select: Sequence[str] = (),
        orderby: str | None = None,
    ) -> list[dict[str, Any]]:
        """Every row, page by page: the server's next link when it gives one, else $skip."""
        query = self._query(filter, select, orderby)
        rows: list[dict[str, Any]] = []
        url: str | None = f"{entity_set}?{query}&$top={self._page}&$skip=0"
        while url:
            payload = await self._get_json(service, url)
            page = rows_of(payload)
            rows.extend(page)
            link = next_link(payload)
            if link:
                url = link.split(f"/{service}/", 1)[-1]
            elif len(page) == self._page:
                url = f"{entity_set}?{query}&$top={self._page}&$skip={len(rows)}"
            else:
                url = None
        return rows

    async def get_by_keys(
        self,
        service: str,
        entity_set: str,
        field: str,
        keys: Iterable[str],
        *,
        also: str | None = None,
        select: Sequence[str] = (),
    ) -> list[dict[str, Any]]:
        """Rows whose `field` is one of `keys`, a few dozen keys per $filter, in one $batch."""
        keys = sorted(set(keys))
        if not keys:
            return []
        clauses = []
        for start in range(0, len(keys), self.keys_per_filter):
            clause = any_of(field, keys[start : start + self.keys_per_filter])
            clauses.append(f"{clause} and {also}" if also else clause)
        if len(clauses) == 1:
            return await self.get_all(service, entity_set, filter=clauses[0], select=select)
        paths = [f"{entity_set}?{self._query(c, select, None)}" for c in clauses]
        return [row for payload in await self.batch_get(service, paths) for row in rows_of(payload)]

    async def batch_get(self, service: str, paths: Sequence[str]) -> list[dict[str, Any]]:
        """Several GETs in one `$batch` round trip; one JSON payload per path, in order."""
        boundary = f"batch_{uuid.uuid4().hex}"
        parts = [
            f"--{boundary}\r\nContent-Type: application/http\r\n"
            f"Content-Transfer-Encoding: binary\r\n\r\nGET {path} HTTP/1.1\r\n"
            f"Accept: application/json\r\n\r\n\r\n"
            for path in paths
        ]
        body = ("".join(parts) + f"--{boundary}--\r\n").encode()
        headers = {"Content-Type": f"multipart/mixed; boundary={boundary}"}
        # $batch is a POST but these parts only read: safe to retry.
        response = await self._send("POST", service, "$batch", content=body, headers=headers, idempotent=True)
        return _batch_payloads(response)

    async def create(self, service: str, entity_set: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self._send("POST", service, entity_set, json=body, idempotent=False)
        return rows_of(response.json())[0]

    async def update(self, service: str, entity_path: str, body: dict[str, Any], etag: str | None) -> None:
        """PATCH with If-Match: a 412 means someone changed it since we read it."""
        headers = {"If-Match": etag} if etag else {}
        await self._send("PATCH", service, entity_path, json=body, headers=headers, idempotent=False)

    async def delete(self, service: str, entity_path: str, etag: str | None) -> None:
        headers = {"If-Match": etag or "*"}
        await self._send("DELETE", service, entity_path, headers=headers, idempotent=True)

    async def _get_json(self, service: str, path: str) -> dict[str, Any]:
        response = await self._send("GET", service, path, idempotent=True)
        return response.json()  # type: ignore[no-any-return]

    def _query(self, filter: str | None, select: Sequence[str], orderby: str | None) -> str:
        parts = ["$format=json"]
        if filter:
            parts.append("$filter=" + quote(filter, safe="'(),=$"))
        if select:
            parts.append("$select=" + ",".join(select))
        if orderby:
            parts.append("$orderby=" + quote(orderby))
        return "&".join(parts)

    async def _send(
        self, method: str, service: str, path: str, *, idempotent: bool, **options: Any
    ) -> httpx.Response:
        async def attempt() -> httpx.Response:
            response = await self._request(method, service, path, **options)
            if (
                response.status_code == 403
                and method != "GET"
                and (response.headers.get("x-csrf-token", "").lower() == "required")
            ):
                self._tokens.pop(service, None)  # expired or never had one: fetch, resend once
                response = await self._request(method, service, path, **options)
            return _checked(response)

        return await self._guard.call(attempt, idempotent=idempotent)

    async def _request(self, method: str, service: str, path: str, **options: Any) -> httpx.Response:
        options = dict(options)
        headers = {"Accept": "application/json", **options.pop("headers", {})}
        if method != "GET":
            headers["X-CSRF-Token"] = await self._csrf(service)
        try:
            return await self._http.request(method, self._url(service, path), headers=headers, **options)
        except httpx.TransportError as exc:
            raise ODataUnavailable(f"odata: {type(exc).__name__}: {exc}") from exc

    async def _csrf(self, service: str) -> str:
        if service not in self._tokens:
            try:
                response = await self._http.get(self._url(service, ""), headers={"X-CSRF-Token": "Fetch"})
            except httpx.TransportError as exc:
                raise ODataUnavailable(f"odata: {type(exc).__name__}: {exc}") from exc
            _checked(response)
            self._tokens[service] = response.headers.get("x-csrf-token", "")
        return self._tokens[service]


def _checked(response: httpx.Response) -> httpx.Response:
    status = response.status_code
    if status < 400:
        return response
    if status >= 500:
        raise ODataUnavailable(f"odata answered {status}")
    message = _error_message(response)
    if status == 404:
        raise ODataNotFound(status, message or "not found")
    if status == 412:
        raise ODataPreconditionFailed(status, message or "the entity changed (ETag mismatch)")
    raise ODataRejected(status, message)


def _error_message(response: httpx.Response) -> str:
    try:
        error = response.json().get("error", {})
        message = error.get("message", "")
        return str(message.get("value", message) if isinstance(message, dict) else message)
    except (ValueError, AttributeError):
        return response.text[:200]


def _batch_payloads(response: httpx.Response) -> list[dict[str, Any]]:
    boundary = response.headers.get("content-type", "").split("boundary=", 1)[-1].strip('"')
    payloads = []
    for part in response.text.split(f"--{boundary}")[1:]:
        if part.startswith("--"):
            break
        status_line = re.search(r"HTTP/1\.1 (\d{3})", part)
        status = int(status_line.group(1)) if status_line else 500
        body = part.split("\r\n\r\n", 2)[-1].strip()
        if status >= 500:
            raise ODataUnavailable(f"odata $batch part answered {status}")
        if status >= 400:
            raise ODataRejected(status, body[:200])
        payloads.append(json.loads(body) if body else {})
    return payloads
