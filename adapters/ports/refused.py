"""A write the records refuse for a business reason: what cart and order ports raise (`Refused`)."""

from __future__ import annotations


class Refused(Exception):
    """A write the records refuse for a business reason (`code` is a UserErrorCode member);
    nothing of it was applied. `index` points at the input line at fault, when there is one."""

    def __init__(self, code: str, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.index = index
