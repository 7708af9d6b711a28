"""Opaque global ids: base64 of `Type:key`, as the contract says. Clients never parse them."""

from __future__ import annotations

import base64
import binascii
import re
from functools import lru_cache

from resolvers.errors import BadUserInput
from resolvers.pagination import MAX_KEY

# A cart's key is its secret token (secrets.token_urlsafe(32)): exactly 43 URL-safe characters.
CART_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
# Keys of types that live in other systems (a CRM's member ids): short, plain tokens.
EXTERNAL_KEY = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def to_global_id(type_name: str, key: int | str) -> str:
    if type(key) is int:
        return _int_global_id(type_name, key)
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()  # secrets are never cached


@lru_cache(maxsize=65536)
def _int_global_id(type_name: str, key: int) -> str:
    # Cached: a listing names the same locations and variants over and over.
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


def from_global_id(value: str, argument: str = "id") -> tuple[str, str]:
    try:
        raw_bytes = base64.b64decode(value, validate=True)
        raw = raw_bytes.decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise BadUserInput(f"`{argument}` is not a valid id", field=argument) from exc
    type_name, sep, key = raw.partition(":")
    # Only the canonical encoding is an id: stray padding would give one entity two ids.
    canonical = base64.b64encode(raw_bytes).decode() == value
    if not canonical or not sep or not type_name or not key:
        raise BadUserInput(f"`{argument}` is not a valid id", field=argument)
    return type_name, key


def int_key(key: str, argument: str = "id") -> int:
    # Only the canonical spelling, so one entity never has two ids; and only what fits the
    # 32-bit key columns (a larger number never came from us, and PostgreSQL would refuse it
    # as a query parameter). The length is checked first: Python will not convert a number of
    # thousands of digits, and nothing that long is one of our keys.
    if len(key) > len(str(MAX_KEY)) or not key.isdigit() or not key.isascii() or str(int(key)) != key:
        raise BadUserInput(f"`{argument}` is not a valid id", field=argument)
    value = int(key)
    if value > MAX_KEY:
        raise BadUserInput(f"`{argument}` is not a valid id", field=argument)
    return value


def str_key(key: str, pattern: re.Pattern[str], argument: str = "id") -> str:
    """A string key, accepted only in the exact shape its type issues (no second spelling)."""
    if not pattern.fullmatch(key):
        raise BadUserInput(f"`{argument}` is not a valid id", field=argument)
    return key


def decode_str_id(value: str, expected: str, pattern: re.Pattern[str], argument: str = "id") -> str:
    type_name, key = from_global_id(value, argument)
    if type_name != expected:
        raise BadUserInput(f"`{argument}` must be the id of a {expected}", field=argument)
    return str_key(key, pattern, argument)


def decode_id(value: str, expected: str, argument: str = "id") -> int:
    type_name, key = from_global_id(value, argument)
    if type_name != expected:
        raise BadUserInput(f"`{argument}` must be the id of a {expected}", field=argument)
    return int_key(key, argument)


def decode_ids(values: list[str] | None, expected: str, argument: str) -> list[int] | None:
    if values is None:
        return None
    return [decode_id(v, expected, argument) for v in values]
