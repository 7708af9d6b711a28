"""Relay connections over keyset positions: cursors stay valid when rows are inserted.

A cursor is opaque to clients: base64url of `[ordering, sort value, id]`. It carries the ordering it
was made for, so a cursor from another ordering (or another listing) is refused, not misread.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson

from adapters.ports.paging import KeysetPage
from resolvers.context import CommercePolicy
from resolvers.errors import BadUserInput

T = TypeVar("T")
MAX_KEY = 2**31 - 1  # ids are 32-bit keys: a larger one never came from us
Position = tuple[Any, int]


@dataclass(frozen=True, slots=True)
class PageArgs:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


@dataclass(frozen=True, slots=True)
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@dataclass(frozen=True, slots=True)
class Edge(Generic[T]):
    cursor: str
    node: T


@dataclass(frozen=True, slots=True)
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo

    @property
    def nodes(self) -> list[T]:
        return [e.node for e in self.edges]


def encode_cursor(ordering: str, position: Position) -> str:
    raw = orjson.dumps([ordering, position[0], position[1]])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, ordering: str, parse_value: Callable[[Any], Any], argument: str) -> Position:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        kind, value, key = orjson.loads(raw)
        if kind != ordering or type(key) is not int or not 0 <= key <= MAX_KEY:
            raise ValueError(kind)
        return parse_value(value), key
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError) as exc:
        raise BadUserInput(f"`{argument}` is not a cursor of this listing", field=argument) from exc


def page_size(args: PageArgs, policy: CommercePolicy) -> tuple[int, bool]:
    """How many rows the client asked for, and whether it counts from the end (`last`)."""
    if args.first is not None and args.last is not None:
        raise BadUserInput("pass `first` or `last`, not both", field="first")
    for name, value in (("first", args.first), ("last", args.last)):
        if value is not None and not 0 <= value <= policy.max_page_size:
            raise BadUserInput(
                f"`{name}` must be between 0 and {policy.max_page_size}, got {value}", field=name
            )
    if args.last is not None:
        return args.last, True
    return (args.first if args.first is not None else policy.default_page_size), False


async def keyset_connection(
    args: PageArgs,
    policy: CommercePolicy,
    ordering: str,
    parse_value: Callable[[Any], Any],
    position: Callable[[T], Position],
    fetch: Callable[[KeysetPage], Awaitable[list[T]]],
    *,
    reverse: bool = False,
    edge: Callable[[str, T], Any] = Edge,
) -> Connection[Any]:
    size, from_end = page_size(args, policy)
    after = decode_cursor(args.after, ordering, parse_value, "after") if args.after else None
    before = decode_cursor(args.before, ordering, parse_value, "before") if args.before else None
    # KeysetPage bounds are in ascending order; a reversed listing swaps them.
    lower, upper = (before, after) if reverse else (after, before)
    rows = await fetch(KeysetPage(limit=size + 1, after=lower, before=upper, descending=reverse != from_end))
    more = len(rows) > size
    rows = rows[:size]
    if from_end:
        rows.reverse()
    edges = [edge(encode_cursor(ordering, position(r)), r) for r in rows]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=more if not from_end else before is not None,
            has_previous_page=more if from_end else after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )


def window_in_memory(rows: list[T], page: KeysetPage, position: Callable[[T], Position]) -> list[T]:
    """The same window over rows already in memory (sorted ascending by position)."""
    picked = [
        r
        for r in rows
        if (page.after is None or position(r) > page.after)
        and (page.before is None or position(r) < page.before)
    ]
    if page.descending:
        picked.reverse()
    return picked[: page.limit]
