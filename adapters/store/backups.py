"""Backup and restore of the embedded SQLite database, with SQLite's online backup API.

The backup API copies the database page by page through a connection of its own, so it is
consistent (one snapshot, the WAL folded in) while the gateway keeps writing; a plain file copy
of a live WAL database can miss committed pages. Both directions check the copy with
`PRAGMA integrity_check`.

A restore replaces the database under a gateway's feet, so it is refused while one runs: every
gateway process holds a shared `flock` on `<database>.lock` for its lifetime (the kernel drops
it when the process dies, however it dies), and a restore needs it exclusively.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO


class BackupError(Exception):
    """Why a backup or restore was refused; the message is for the person at the terminal."""


@contextmanager
def running(database: Path) -> Iterator[None]:
    """Held by a gateway while it serves this database (a shared lock: many processes may)."""
    handle = _lock_file(database)
    try:
        fcntl.flock(handle, fcntl.LOCK_SH)
        yield
    finally:
        handle.close()  # closing the file releases the lock


def backup(database: Path, target: Path) -> Path:
    if not database.is_file():
        raise BackupError(f"there is no database at {database}")
    if target.exists():
        raise BackupError(f"{target} exists already; choose another file")
    target.parent.mkdir(parents=True, exist_ok=True)
    with _read_only(database) as source, closing(sqlite3.connect(target)) as copy:
        source.backup(copy)
    _check(target)
    return target


def restore(source: Path, database: Path) -> Path | None:
    """Replace `database` with the backup at `source`; the database it replaces is kept next to
    it first (returned), so a restore is never the end of the data it overwrote."""
    if not source.is_file():
        raise BackupError(f"there is no backup at {source}")
    _check(source)
    with _read_only(source) as backup_db:
        if backup_db.execute("SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'").fetchone() is None:
            raise BackupError(f"{source} is a SQLite database but not an Omnigate one")
    database.parent.mkdir(parents=True, exist_ok=True)
    with _lock_file(database) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(
                f"a gateway is running on {database}; stop it first (a backup may be taken while it runs)"
            ) from None
        kept = None
        if database.is_file():
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            kept = backup(database, database.with_name(f"{database.name}.before-restore-{stamp}"))
        with _read_only(source) as backup_db, closing(sqlite3.connect(database)) as live:
            backup_db.backup(live)
        _check(database)
    return kept


def _check(path: Path) -> None:
    try:
        with _read_only(path) as db:
            result = db.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a usable SQLite database: {exc}") from None
    if result != [("ok",)]:
        raise BackupError(f"{path} failed its integrity check: {result[:3]}")


def _read_only(path: Path) -> closing[sqlite3.Connection]:
    """Only read through it: it is the database a gateway (WAL mode) may be writing to."""
    if not path.is_file():
        raise BackupError(f"there is no database at {path}")
    return closing(sqlite3.connect(path))


def _lock_file(database: Path) -> IO[bytes]:
    database.parent.mkdir(parents=True, exist_ok=True)
    return open(os.fspath(database) + ".lock", "a+b")
