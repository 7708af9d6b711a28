"""Cart ports: carts and their lines, the stock a line holds at its store, merging a member's carts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from adapters.commerce import CartLineRecord, CartRecord, Channel, FulfillmentMode
from adapters.records import InventoryLevelRecord


@dataclass(frozen=True, slots=True)
class CartLineOp:
    """One change to a cart's lines.

    `line_id` None adds `quantity` of a variant (merged into the line with the same variant and
    fulfillment, if there is one). Otherwise it updates that line: a new `quantity` (0 removes
    it) and/or a new fulfillment (`mode`, `location_id`); `remove` drops it.
    """

    line_id: int | None = None
    variant_id: int | None = None
    quantity: int | None = None
    mode: FulfillmentMode | None = None
    location_id: int | None = None
    remove: bool = False


@dataclass(frozen=True, slots=True)
class HoldPolicy:
    """Which lines hold stock at their location while in a cart, and until when."""

    modes: frozenset[FulfillmentMode]
    until: datetime


@dataclass(frozen=True, slots=True)
class CartChange:
    cart: CartRecord
    levels: list[InventoryLevelRecord]  # stock levels whose `reserved` moved, after the change


@dataclass(frozen=True, slots=True)
class CartMerge(CartChange):
    merged: list[int] = field(default_factory=list)  # carts merged into `cart` (internal ids)


class CartSource(Protocol):
    async def carts_by_tokens(self, tokens: Sequence[str]) -> list[CartRecord]: ...

    async def carts_by_ids(self, ids: Sequence[int]) -> list[CartRecord]:
        """Carts whose token is kept (members' carts), by internal id."""
        ...

    async def carts_of_member(self, member_id: str, now: datetime) -> list[CartRecord]:
        """The member's open carts, most recently changed first."""
        ...

    async def lines_by_cart_ids(self, cart_ids: Sequence[int]) -> list[CartLineRecord]:
        """Lines with their hold, expired or not (`held_until` tells)."""
        ...

    async def create_cart(
        self,
        channel: Channel,
        member_id: str | None,
        ops: Sequence[CartLineOp],
        holds: HoldPolicy,
        now: datetime,
        expires_at: datetime,
        max_lines: int,
        currency_code: str | None = None,
        location_id: int | None = None,
    ) -> CartChange:
        """A new cart with a fresh unguessable token, and its first lines; priced in
        `currency_code` (default: the shop's), built at the store `location_id` if any."""
        ...

    async def change_lines(
        self,
        token: str,
        ops: Sequence[CartLineOp],
        holds: HoldPolicy,
        now: datetime,
        expires_at: datetime,
        max_lines: int,
    ) -> CartChange:
        """Apply every op in one transaction, then take, resize or release each line's hold;
        raise `Refused` (CART_NOT_FOUND, CART_COMPLETED, CART_MERGED, LINE_NOT_FOUND,
        TOO_MANY_LINES)."""
        ...

    async def release_expired_holds(
        self, now: datetime, cart_ids: Sequence[int] | None = None
    ) -> tuple[list[int], list[InventoryLevelRecord]]:
        """Release cart holds past their time (of these carts, or all): the carts touched and
        the levels after."""
        ...

    async def delete_expired_carts(self, now: datetime) -> tuple[int, list[InventoryLevelRecord]]: ...

    async def attach_member(
        self,
        token: str,
        member_id: str,
        merge: Callable[[list[CartLineOp], list[CartLineOp]], list[CartLineOp]],
        holds: HoldPolicy,
        now: datetime,
        expires_at: datetime,
        max_lines: int,
        carried: Callable[[int], bool] = ...,
    ) -> CartMerge:
        """Make the cart the member's, merging their other open carts into it (`merge` gives the
        ops on this cart from its lines and theirs; a line whose variant is not `carried` stays
        behind); the merged carts stay, MERGED into this one. Refuses CART_NOT_FOUND,
        CART_COMPLETED, CART_MERGED."""
        ...
