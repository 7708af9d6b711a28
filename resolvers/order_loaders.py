"""Per-request DataLoaders for carts and orders: one query per level, results in key order."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.commerce import (
    CartLineRecord,
    CartRecord,
    FulfillmentRecord,
    OrderLineRecord,
    OrderRecord,
    PaymentRecord,
    ReturnLineRecord,
    ReturnRecord,
    StatusChangeRecord,
)
from adapters.ports.carts import CartSource
from adapters.ports.orders import OrderSource
from resolvers.batching import Loader, many_per_key, one_per_key


class CartByTokenLoader(Loader[str, CartRecord | None]):
    def __init__(self, carts: CartSource) -> None:
        super().__init__()
        self._carts = carts

    async def batch_load_fn(self, keys: Sequence[str]) -> list[CartRecord | None]:
        return one_per_key(keys, await self._carts.carts_by_tokens(keys), lambda c: c.token)


class CartByIdLoader(Loader[int, CartRecord | None]):
    """Members' carts by internal id (a merged cart's `mergedInto`)."""

    def __init__(self, carts: CartSource) -> None:
        super().__init__()
        self._carts = carts

    async def batch_load_fn(self, keys: Sequence[int]) -> list[CartRecord | None]:
        return one_per_key(keys, await self._carts.carts_by_ids(keys), lambda c: c.id)


class CartLinesByCartIdLoader(Loader[int, list[CartLineRecord]]):
    def __init__(self, carts: CartSource) -> None:
        super().__init__()
        self._carts = carts

    async def batch_load_fn(self, keys: Sequence[int]) -> list[list[CartLineRecord]]:
        return many_per_key(keys, await self._carts.lines_by_cart_ids(keys), lambda ln: ln.cart_id)


class OrderByIdLoader(Loader[int, OrderRecord | None]):
    def __init__(self, orders: OrderSource) -> None:
        super().__init__()
        self._orders = orders

    async def batch_load_fn(self, keys: Sequence[int]) -> list[OrderRecord | None]:
        return one_per_key(keys, await self._orders.orders_by_ids(keys), lambda o: o.id)


class OrderByCartIdLoader(Loader[int, OrderRecord | None]):
    def __init__(self, orders: OrderSource) -> None:
        super().__init__()
        self._orders = orders

    async def batch_load_fn(self, keys: Sequence[int]) -> list[OrderRecord | None]:
        return one_per_key(keys, await self._orders.orders_by_cart_ids(keys), lambda o: o.cart_id)


class FulfillmentsByOrderIdLoader(Loader[int, list[FulfillmentRecord]]):
    def __init__(self, orders: OrderSource) -> None:
        super().__init__()
        self._orders = orders

    async def batch_load_fn(self, keys: Sequence[int]) -> list[list[FulfillmentRecord]]:
        rows = await self._orders.fulfillments_by_order_ids(keys)
        return many_per_key(keys, rows, lambda f: f.order_id)


class FulfillmentByIdLoader(Loader[int, FulfillmentRecord | None]):
    def __init__(self, orders: OrderSource) -> None:
        super().__init__()
        self._orders = orders

    async def batch_load_fn(self, keys: Sequence[int]) -> list[FulfillmentRecord | None]:
        return one_per_key(keys, await self._orders.fulfillments_by_ids(keys), lambda f: f.id)


class OrderLinesByOrderIdLoader(Loader[int, list[OrderLineRecord]]):
    def __init__(self, orders: OrderSource) -> None:
        super().__init__()
        self._orders = orders

    async def batch_load_fn(self, keys: Sequence[int]) -> list[list[OrderLineRecord]]:
        return many_per_key(keys, await self._orders.lines_by_order_ids(keys), lambda ln: ln.order_id)


class StatusChangesByOrderIdLoader(Loader[int, list[StatusChangeRecord]]):
    def __init__(self, orders: OrderSource) -> None:
        super().__init__()
        self._orders = orders

    async def batch_load_fn(self, keys: Sequence[int]) -> list[list[StatusChangeRecord]]:
        rows = await self._orders.status_changes_by_order_ids(keys)
        return many_per_key(keys, rows, lambda c: c.order_id)


class PaymentsByOrderIdLoader(Loader[int, list[PaymentRecord]]):
    def __init__(self, orders: OrderSource) -> None:
        super().__init__()
        self._orders = orders

    async def batch_load_fn(self, keys: Sequence[int]) -> list[list[PaymentRecord]]:
        rows = await self._orders.payments_by_order_ids(keys)
        return many_per_key(keys, rows, lambda p: p.order_id)


class ReturnsByOrderIdLoader(Loader[int, list[ReturnRecord]]):
    def __init__(self, orders: OrderSource) -> None:
        super().__init__()
        self._orders = orders

    async def batch_load_fn(self, keys: Sequence[int]) -> list[list[ReturnRecord]]:
        rows = await self._orders.returns_by_order_ids(keys)
        return many_per_key(keys, rows, lambda r: r.order_id)


class ReturnLinesByReturnIdLoader(Loader[int, list[ReturnLineRecord]]):
    def __init__(self, orders: OrderSource) -> None:
        super().__init__()
        self._orders = orders

    async def batch_load_fn(self, keys: Sequence[int]) -> list[list[ReturnLineRecord]]:
        rows = await self._orders.return_lines_by_return_ids(keys)
        return many_per_key(keys, rows, lambda r: r.return_id)
