"""`omnigate backup` / `omnigate restore` for the embedded SQLite database, through the CLI as a
shop runs it: a backup taken while a real gateway serves, a restore refused while it runs and
done once it is stopped, and the refusals of everything that is not a backup of this kind."""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from adapters.store import backups
from gateway import cli
from gateway.settings import Settings
from tests.commerce import ADJUST, SEATTLE, location_id, variant_id
from tests.commerce import LEVEL as LEVEL_QUERY
from tests.conftest import INTEGRATION_TOKEN
from tests.servers import OMNIGATE, serving

LEVEL = "SELECT on_hand FROM inventory_levels WHERE variant_id = 1 AND location_id = ?"


def omnigate(data: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "GATEWAY_DATA_DIR": str(data), "GATEWAY_LOG_LEVEL": "warning", **env}
    environment.pop("GATEWAY_DATABASE_URL", None)
    environment.update(env)
    return subprocess.run([*OMNIGATE, *args], env=environment, capture_output=True, text=True, timeout=60)


def count_stock(base: str, on_hand: int) -> None:
    change = {"variantId": variant_id(1), "locationId": location_id(SEATTLE), "onHand": on_hand}
    body = {"query": ADJUST, "variables": {"input": {"reason": "CYCLE_COUNT", "changes": [change]}}}
    headers = {"Authorization": f"Bearer {INTEGRATION_TOKEN}"}
    answer = httpx.post(f"{base}/graphql", json=body, headers=headers, timeout=30).json()
    assert answer["data"]["inventoryAdjust"]["userErrors"] == [], answer


def on_hand(database: Path) -> int:
    with closing(sqlite3.connect(database)) as db:
        return db.execute(LEVEL, (SEATTLE,)).fetchone()[0]


@pytest_asyncio.fixture
async def data(sqlite_templates, tmp_path) -> Path:
    """A data directory holding a copy of the seeded demo database (no seeding at start)."""
    url = await sqlite_templates.clone()
    folder = tmp_path / "data"
    os.makedirs(folder)
    os.replace(url.removeprefix("sqlite+aiosqlite:///"), folder / "omnigate.db")
    return folder


def test_a_backup_taken_while_serving_is_restored_once_stopped(data, tmp_path):
    saved = tmp_path / "saved.db"
    with serving(data, GATEWAY_INTEGRATION_TOKEN=INTEGRATION_TOKEN) as base:
        count_stock(base, 7)
        done = omnigate(data, "backup", str(saved))  # the gateway keeps running meanwhile
        assert done.returncode == 0, done.stderr
        assert "integrity checked" in done.stdout
        count_stock(base, 3)  # after the backup
        refused = omnigate(data, "restore", str(saved))
        assert refused.returncode != 0
        assert "a gateway is running on" in refused.stderr
    assert on_hand(saved) == 7 and on_hand(data / "omnigate.db") == 3

    restored = omnigate(data, "restore", str(saved))
    assert restored.returncode == 0, restored.stderr
    [kept] = data.glob("omnigate.db.before-restore-*")
    assert f"kept as {kept}" in restored.stdout
    assert on_hand(kept) == 3  # the database it replaced, not lost
    with serving(data) as base:
        query = {
            "query": LEVEL_QUERY,
            "variables": {"variant": variant_id(1), "location": location_id(SEATTLE)},
        }
        answer = httpx.post(f"{base}/graphql", json=query, timeout=30).json()
        assert answer["data"]["node"]["inventory"][0]["onHand"] == 7

    default = omnigate(data, "backup")
    assert default.returncode == 0, default.stderr
    [made] = (data / "backups").glob("omnigate-*.db")
    assert on_hand(made) == 7


def refusal(data: Path, command: str, file: Path | None = None, **settings: Any) -> str:
    """What `omnigate <command> [file]` says when it refuses (in process: the CLI's own
    functions; the test above runs the real command line)."""
    run = cli._backup if command == "backup" else cli._restore
    with pytest.raises(SystemExit) as refused:
        run(Settings(data_dir=data, **settings), argparse.Namespace(file=str(file) if file else None))
    return str(refused.value)


def test_what_is_not_a_backup_of_the_embedded_database_is_refused(data, tmp_path):
    postgres = {"database_url": "postgresql+asyncpg://shop@db.internal/shop"}
    for command in ("backup", "restore"):
        why = refusal(data, command, tmp_path / "x.db", **postgres)
        assert "is for the embedded SQLite database" in why and "pg_dump" in why

    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    stranger = tmp_path / "stranger.db"
    with closing(sqlite3.connect(stranger)) as db:
        db.execute("CREATE TABLE notes (body TEXT)")
    assert "is not a usable SQLite database" in refusal(data, "restore", garbage)
    assert "not an Omnigate one" in refusal(data, "restore", stranger)
    assert "there is no backup at" in refusal(data, "restore", tmp_path / "missing.db")
    assert on_hand(data / "omnigate.db") > 0  # untouched by the refusals
    assert list(data.glob("*.before-restore-*")) == []

    assert "exists already" in refusal(data, "backup", stranger)
    assert "there is no database at" in refusal(tmp_path / "nowhere", "backup")
    sound = backups.backup(data / "omnigate.db", tmp_path / "sound.db")
    with backups.running(data / "omnigate.db"):  # what every gateway process holds
        assert "a gateway is running on" in refusal(data, "restore", sound)
