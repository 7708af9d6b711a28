"""A real gateway process (uvicorn through `omnigate serve`) for tests that need a live server,
and the npm tools that the HTTP audit and the browser test run with."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

OMNIGATE = [sys.executable, "-c", "from gateway.cli import main; main()"]
JS = Path(__file__).parent / "js"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def need(condition: bool, why: str) -> None:
    """Skip locally when a tool is missing; in CI (CI=true) that is a failure."""
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{why} (CI must run this test: .ci/run installs it)")
    pytest.skip(why)


def need_node_tools() -> None:
    need(shutil.which("node") is not None, "Node.js is not installed")
    need((JS / "node_modules").is_dir(), "run `npm ci --prefix tests/js` for the test tools")


@contextmanager
def serving(data_dir: Path, database_url: str | None = None, **env: str) -> Iterator[str]:
    """`omnigate serve` on the embedded SQLite in `data_dir`, or on `database_url`."""
    port = free_port()
    environment = {**os.environ, "GATEWAY_DATA_DIR": str(data_dir), "GATEWAY_LOG_LEVEL": "warning", **env}
    environment.pop("GATEWAY_DATABASE_URL", None)
    if database_url is not None:
        environment["GATEWAY_DATABASE_URL"] = database_url
    proc = subprocess.Popen([*OMNIGATE, "serve", "--port", str(port)], env=environment)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, "the gateway exited during start-up"
            assert time.monotonic() < deadline, "the gateway did not start in 60 s"
            time.sleep(0.2)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) in (0, -signal.SIGTERM)
