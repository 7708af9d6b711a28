"""How a member's open cart joins the cart they attach on sign-in: one swappable strategy, as
Vendure's OrderMergeStrategy. The gateway's default is `AddQuantities`."""

from __future__ import annotations

from typing import Protocol

from adapters.ports.carts import CartLineOp


class CartMergeStrategy(Protocol):
    def merge(self, current: list[CartLineOp], other: list[CartLineOp]) -> list[CartLineOp]:
        """Ops on the attached cart, given its lines (`line_id` set) and the lines of the
        member's other open cart(s) (`line_id` None). The other carts stay afterwards, MERGED
        into the attached one, so their ids still answer on the devices that hold them."""
        ...


class AddQuantities:
    """Every line of the member's earlier cart is added: the same variant and fulfillment adds
    quantities (the store merges an added line into its twin), anything else becomes a line."""

    def merge(self, current: list[CartLineOp], other: list[CartLineOp]) -> list[CartLineOp]:
        return [CartLineOp(None, op.variant_id, op.quantity, op.mode, op.location_id) for op in other]


class KeepCurrentCart:
    """The cart in hand wins; nothing of the member's earlier cart is carried over."""

    def merge(self, current: list[CartLineOp], other: list[CartLineOp]) -> list[CartLineOp]:
        return []
