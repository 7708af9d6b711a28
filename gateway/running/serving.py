"""One gateway process under uvicorn until SIGTERM: what `omnigate serve` runs, and each worker
of `omnigate serve --workers N` (gateway/running/supervisor.py)."""

from __future__ import annotations

from typing import Any

from gateway.settings import Settings


def serve_one(settings: Settings, host: str, port: int, sockets: list[Any] | None = None) -> None:
    """One gateway process until SIGTERM (on `sockets` when a supervisor's worker)."""
    import uvicorn

    from gateway.app import create_app
    from gateway.running.draining import DrainingServer

    if settings.gc_freeze is None:  # a process of its own: see gateway/running/heap.py
        settings = settings.model_copy(update={"gc_freeze": True})
    app = create_app(settings)
    # Forwarded headers only from the proxies the operator names (uvicorn on its own trusts
    # loopback): otherwise a client on the same host could pick its own address, and with it
    # its own rate-limit bucket.
    trusted = settings.forwarded_allow_ips.strip()
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
        log_level=settings.log_level,
        log_config=None,  # our JSON (or text) logging, configured in main()
        loop="auto",
        http="auto",
        ws_per_message_deflate=settings.websocket_compression,
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,  # type: ignore[arg-type]
    )
    DrainingServer(config, app.state.gateway).run(sockets=sockets)
