"""Business failures of a mutation, returned as data next to what did change (if anything)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class UserError:
    field: list[str] | None  # path into the mutation's arguments, e.g. ["input", "changes", "2"]
    message: str
    code: str  # a member of the schema's UserErrorCode enum
