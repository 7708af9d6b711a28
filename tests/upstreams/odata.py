"""SAP's OData mock server (tests/odata) run with Node for a test session."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

import httpx

from tests.upstreams._process import REPO, env, stop

FOLDER = REPO / "tests" / "odata"
SERVICES = [
    "API_PRODUCT_SRV",
    "API_MATERIAL_STOCK_SRV",
    "API_SALES_ORDER_SRV",
    "API_BUSINESS_PARTNER",
]
PLANTS = "1010=SEA-PIKE,1020=PDX-PEARL,1030=WH-RNO"


def missing() -> str | None:
    if shutil.which("node") is None:
        return "Node is not installed"
    if not (FOLDER / "node_modules" / "@sap-ux" / "fe-mockserver-core").exists():
        return "the OData mock server is not installed: run `npm ci` in tests/odata"
    return None


@dataclass
class ODataServer:
    proc: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sap/opu/odata/sap"

    def reset(self) -> None:
        """Every service back to its files (writes are kept in memory)."""
        with httpx.Client(timeout=10) as http:
            for service in SERVICES:
                http.post(f"{self.url}/{service}/$metadata/reload").raise_for_status()

    def stop(self) -> None:
        stop(self.proc)


def start_odata(mock_dir: str | None = None) -> ODataServer:
    proc = subprocess.Popen(
        ["node", "server.js"],
        cwd=FOLDER,
        env=env(PORT="0", **({"MOCK_DIR": mock_dir} if mock_dir else {})),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    for line in proc.stdout:  # the mock logs a little before it says READY <port>
        if line.startswith(b"READY "):
            return ODataServer(proc, int(line.split()[1]))
    stop(proc)
    raise RuntimeError("the OData mock server exited before it was ready")
