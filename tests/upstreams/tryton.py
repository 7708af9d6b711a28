"""A real trytond for tests: a seeded template database built once (cached under .cache/,
keyed by the Tryton version and this file), copied per test with SQLite's backup API, and a
server started on a free port.

The Tryton virtualenv is made by .ci/run (its own, since trytond pins its own dependencies);
point OMNIGATE_TRYTOND at its `trytond`, or leave a `.venv-tryton/` in the repository.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import sqlite3
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.upstreams._process import CACHE, REPO, env, free_port, stop, wait_until

ADMIN_PASSWORD = "admin"

# (code, name): warehouse codes are the gateway's location codes, so stock lands on its stores.
WAREHOUSES = [("SEA-PIKE", "Seattle Pike Place"), ("PDX-PEARL", "Portland Pearl")]
# (template code, name, price, category, sizes, stock per warehouse code)
PRODUCTS = [
    (
        "TR-JKT",
        "Tryton Rain Jacket",
        "149.00",
        "Jackets",
        ["S", "M", "L"],
        {"SEA-PIKE": 6, "PDX-PEARL": 3},
    ),
    ("TR-BNE", "Tryton Wool Beanie", "24.50", "Accessories", ["OS"], {"SEA-PIKE": 12}),
    ("TR-PNT", "Tryton Trail Pant", "89.00", "Pants", ["30", "32"], {"PDX-PEARL": 4}),
]
CUSTOMERS = [("Ada Lovelace", "ada@example.com", "1 Pike St", "Seattle", "98101")]


def trytond_binary() -> Path | None:
    given = os.environ.get("OMNIGATE_TRYTOND")
    if given:
        return Path(given) if Path(given).exists() else None
    local = REPO / ".venv-tryton" / "bin" / "trytond"
    return local if local.exists() else None


class Rpc:
    """A bare JSON-RPC session for seeding and for checking what reached the ERP."""

    def __init__(self, url: str, database: str) -> None:
        self.endpoint = f"{url}/{database}/rpc/"
        self.http = httpx.Client(timeout=60)
        user_id, token = self._post("common.db.login", ["admin", {"password": ADMIN_PASSWORD}])[:2]
        self.auth = "Session " + base64.b64encode(f"admin:{user_id}:{token}".encode()).decode()
        self.context: dict[str, Any] = {}

    def _post(self, method: str, params: list[Any], auth: str | None = None) -> Any:
        headers = {"Authorization": auth} if auth else {}
        body = self.http.post(
            self.endpoint, json={"id": 1, "method": method, "params": params}, headers=headers
        ).json()
        if body.get("error"):
            raise RuntimeError(body["error"])
        return body["result"]

    def __call__(self, model: str, method: str, *params: Any) -> Any:
        return self._post(f"model.{model}.{method}", [*params, self.context], self.auth)

    def close(self) -> None:
        self.http.close()


def D(amount: str) -> dict[str, str]:
    return {"__class__": "Decimal", "decimal": amount}


def seed(rpc: Rpc) -> None:
    [usd] = rpc(
        "currency.currency",
        "create",
        [{"name": "US Dollar", "code": "USD", "symbol": "$", "rounding": D("0.01"), "digits": 2}],
    )
    [party] = rpc("party.party", "create", [{"name": "Cascade Outfitters"}])
    [company] = rpc("company.company", "create", [{"party": party, "currency": usd}])
    rpc("res.user", "write", [1], {"companies": [["add", [company]]], "company": company})
    rpc.context = {"company": company}
    storage = {}
    for code, name in WAREHOUSES:
        zones = rpc(
            "stock.location",
            "create",
            [{"name": f"{name} {z}", "type": "storage"} for z in ("Input", "Output", "Storage")],
        )
        [warehouse] = rpc(
            "stock.location",
            "create",
            [
                {
                    "name": name,
                    "code": code,
                    "type": "warehouse",
                    "input_location": zones[0],
                    "output_location": zones[1],
                    "storage_location": zones[2],
                }
            ],
        )
        rpc("stock.location", "write", zones, {"parent": warehouse})
        storage[code] = zones[2]
    [supplier] = rpc("stock.location", "search", [["type", "=", "supplier"]], 0, 1, None)
    [unit] = rpc("product.uom", "search", [["symbol", "=", "u"]], 0, 1, None)
    moves = []
    for code, name, price, category, sizes, stock in PRODUCTS:
        [cat] = rpc("product.category", "create", [{"name": category}])
        [template] = rpc(
            "product.template",
            "create",
            [
                {
                    "name": name,
                    "code": code,
                    "type": "goods",
                    "salable": True,
                    "list_price": D(price),
                    "default_uom": unit,
                    "sale_uom": unit,
                    "categories": [["add", [cat]]],
                    "products": [["create", [{"suffix_code": f"-{s}"} for s in sizes]]],
                }
            ],
        )
        variants = rpc("product.product", "search", [["template", "=", template]], 0, None, [["id", "ASC"]])
        for warehouse, quantity in stock.items():
            for variant in variants:
                moves.append(
                    {
                        "product": variant,
                        "from_location": supplier,
                        "to_location": storage[warehouse],
                        "quantity": quantity,
                        "unit": unit,
                        "company": company,
                        "unit_price": D("10"),
                        "currency": usd,
                    }
                )
    rpc("stock.move", "do", rpc("stock.move", "create", moves))
    for name, email, street, city, zip_code in CUSTOMERS:
        rpc(
            "party.party",
            "create",
            [
                {
                    "name": name,
                    "contact_mechanisms": [["create", [{"type": "email", "value": email}]]],
                    "addresses": [["create", [{"street": street, "city": city, "postal_code": zip_code}]]],
                }
            ],
        )


@dataclass
class TrytonServer:
    """One trytond serving one copy of the template, on its own port."""

    binary: Path
    folder: Path
    database: str
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.port = self.port or free_port()
        self.proc = subprocess.Popen(
            [str(self.binary), "-d", self.database],
            env=_tryton_env(self.folder, f"127.0.0.1:{self.port}"),
            stdout=subprocess.DEVNULL,
            stderr=(self.folder / f"{self.database}.log").open("ab"),
        )
        wait_until(self._answers, self.proc, "trytond", 30)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None

    def rpc(self) -> Rpc:
        rpc = Rpc(self.url, self.database)
        rpc.context = {"company": 1}
        return rpc

    def _answers(self) -> bool:
        try:
            body = httpx.post(
                f"{self.url}/{self.database}/rpc/",
                json={
                    "id": 0,
                    "method": "common.db.login",
                    "params": ["admin", {"password": ADMIN_PASSWORD}],
                },
                timeout=2,
            ).json()
            return bool(body.get("result"))
        except (httpx.HTTPError, ValueError):
            return False


def _tryton_env(folder: Path, listen: str) -> dict[str, str]:
    return env(
        TRYTOND_DATABASE__URI="sqlite://",
        TRYTOND_DATABASE__PATH=str(folder),
        TRYTOND_WEB__LISTEN=listen,
    )


def _version(binary: Path) -> str:
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True)
    return out.stdout.strip().split()[-1]


def template_database(binary: Path) -> Path:
    """The seeded template, built once per Tryton version and seed (about 25 s), then reused."""
    key = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
    folder = CACHE / f"tryton-{_version(binary)}-{key}"
    template = folder / "template.sqlite"
    if template.exists():
        return template
    building = CACHE / f"building-{uuid.uuid4().hex[:8]}"
    building.mkdir(parents=True)
    try:
        (building / "template.sqlite").touch()
        (building / "password").write_text(ADMIN_PASSWORD)
        admin = binary.with_name("trytond-admin")
        subprocess.run(
            [
                str(admin),
                "-d",
                "template",
                "--email",
                "admin@example.com",
                "-u",
                "sale",
                "--activate-dependencies",
            ],
            env={
                **_tryton_env(building, "127.0.0.1:0"),
                "TRYTONPASSFILE": str(building / "password"),
            },
            check=True,
            capture_output=True,
        )
        server = TrytonServer(binary, building, "template")
        server.start()
        try:
            rpc = Rpc(server.url, "template")
            seed(rpc)
            rpc.close()
        finally:
            server.stop()
        folder.mkdir(parents=True, exist_ok=True)
        copy_database(building / "template.sqlite", folder / "template.sqlite.part")
        (folder / "template.sqlite.part").rename(template)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return template


def copy_database(source: Path, target: Path) -> None:
    # A stopped trytond leaves its WAL beside the file: the backup API folds it in, cp would not.
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def tryton_server(binary: Path, template: Path, folder: Path) -> TrytonServer:
    name = f"erp{uuid.uuid4().hex[:8]}"
    copy_database(template, folder / f"{name}.sqlite")
    server = TrytonServer(binary, folder, name)
    start = time.monotonic()
    server.start()
    server.started_in = time.monotonic() - start  # type: ignore[attr-defined]
    return server
