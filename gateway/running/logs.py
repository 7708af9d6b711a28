"""Structured logs: one JSON object per line, with the request id of the request being served
(set by `gateway.transport.middleware.RequestId`, also returned in the X-Request-Id header)."""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

import orjson

REQUEST_ID: ContextVar[str | None] = ContextVar("omnigate_request_id", default=None)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = REQUEST_ID.get()
        return f"{line} [request {request_id}]" if request_id else line


class WithoutQueryStrings(logging.Filter):
    """uvicorn's access log without query strings: a GET request carries its GraphQL document
    there, with cart ids (a cart's secret), and whatever a client put in it (a password, for a
    `memberLogin` sent by GET). The path stays, the rest is `?<redacted>`."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn's access records: (client address, method, path with query, HTTP version, status)
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str) and "?" in args[2]:
            path = args[2].split("?", 1)[0]
            record.args = (args[0], args[1], f"{path}?<redacted>", args[3], args[4])
        return True


# Libraries whose info lines say nothing an operator acts on (alembic: seven per start).
QUIET = ("alembic", "aiosqlite", "asyncio", "httpx", "httpcore")


def configure(log_format: str = "auto", level: str = "info") -> None:
    """JSON lines for collectors, text for people: `auto` is text on a terminal."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "auto":
        log_format = "text" if sys.stderr.isatty() else "json"
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(_TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):  # through the root handler, as JSON too
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    for name in QUIET:  # their warnings still show; their chatter only at debug
        logging.getLogger(name).setLevel(logging.NOTSET if root.level <= logging.DEBUG else logging.WARNING)
    hide_query_strings()


def hide_query_strings() -> None:
    """Keep query strings out of uvicorn's access log (once per process; create_app calls it
    too, for gateways embedded in a server of the operator's own)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, WithoutQueryStrings) for f in access.filters):
        access.addFilter(WithoutQueryStrings())
