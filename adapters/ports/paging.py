"""Paging: the window of an ordered listing that every paged port takes (`KeysetPage`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class KeysetPage:
    """A window of an ordered listing: `limit` rows strictly between two keyset positions.

    A position is `(sort value, id)`; `descending` is the order rows are scanned in, so a
    backward page (`last`/`before`) scans in reverse and the caller flips it back.
    """

    limit: int
    after: tuple[Any, int] | None = None
    before: tuple[Any, int] | None = None
    descending: bool = False
