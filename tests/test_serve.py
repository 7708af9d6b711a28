"""`omnigate` as a user runs it: a real uvicorn process on the embedded default."""

import os
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.servers import OMNIGATE, serving


@pytest.fixture
def served(tmp_path: Path):
    with serving(tmp_path / "data") as base:
        yield base, tmp_path / "data"


def test_first_start_creates_and_seeds_the_embedded_database(served):
    base, data_dir = served
    assert (data_dir / "omnigate.db").exists()
    query = "{ products(first: 250) { nodes { id } } locations(first: 50) { nodes { kind } } }"
    response = httpx.post(f"{base}/graphql", json={"query": query}, timeout=30)
    data = response.json()["data"]
    assert len(data["products"]["nodes"]) == 200
    kinds = [n["kind"] for n in data["locations"]["nodes"]]
    assert (kinds.count("STORE"), kinds.count("WAREHOUSE")) == (10, 2)  # 2 stores in Canada
    assert httpx.get(f"{base}/readyz", timeout=5).json()["database"] == "ok"


def test_a_browser_gets_graphiql(served):
    base, _ = served
    page = httpx.get(f"{base}/graphql", headers={"Accept": "text/html"}, timeout=5)
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


def test_export_schema_prints_the_sdl():
    out = subprocess.run([*OMNIGATE, "export-schema"], capture_output=True, text=True, check=True)
    assert out.stdout == (Path(__file__).parent.parent / "schema.graphql").read_text()


def test_seed_builds_a_database_from_nothing(tmp_path: Path):
    env = {**os.environ, "GATEWAY_DATA_DIR": str(tmp_path)}
    env.pop("GATEWAY_DATABASE_URL", None)
    subprocess.run([*OMNIGATE, "seed"], env=env, check=True, capture_output=True)
    import sqlite3

    with sqlite3.connect(tmp_path / "omnigate.db") as db:
        assert db.execute("select count(*) from products").fetchone() == (200,)
        assert db.execute("select count(*) from locations").fetchone() == (12,)
