"""The floors: the listing's response with no GraphQL in between, one plain Starlette app.

`POST /static/orjson` and `POST /static/json` answer the listing's response data, built once at
start from the database and serialized per request with `orjson.dumps` / the standard library
(Starlette's JSONResponse): the plain-JSON limit, the reference of every ratio. `POST /db/orjson`
and `POST /db/json` read the same rows as the gateway on every request (products page by id, their
variants, those variants' inventory levels, the locations those levels name) with SQLAlchemy async
Core in 4 queries, and answer the gateway's exact JSON. Run it as
`python -m bench.baseline --port N --database PATH` (uvicorn, one worker, like `omnigate serve`).
"""

from __future__ import annotations

import argparse
from base64 import b64encode
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import orjson
import sqlalchemy as sa
import uvicorn
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.records import minor_units
from adapters.store.tables import inventory_levels, locations, products, variants
from bench.listing import PAGE_SIZE

_IDS = sa.bindparam("ids", expanding=True)
# Only the columns the answer needs: what a hand-written endpoint would select.
PRODUCTS = (
    sa.select(products.c.id, products.c.title, products.c.handle)
    .order_by(products.c.id)
    .limit(sa.bindparam("limit"))
)
VARIANTS = (
    sa.select(
        variants.c.id,
        variants.c.product_id,
        variants.c.sku,
        variants.c.title,
        variants.c.price_minor,
        variants.c.currency_code,
    )
    .where(variants.c.product_id.in_(_IDS))
    .order_by(variants.c.product_id, variants.c.position)
)
LEVELS = (
    sa.select(
        inventory_levels.c.variant_id,
        inventory_levels.c.location_id,
        inventory_levels.c.on_hand,
        inventory_levels.c.reserved,
    )
    .where(inventory_levels.c.variant_id.in_(_IDS))
    .order_by(inventory_levels.c.variant_id, inventory_levels.c.location_id)
)
LOCATIONS = sa.select(locations.c.id, locations.c.name).where(locations.c.id.in_(_IDS))

Rows = tuple[list[Any], list[Any], list[Any], list[Any]]


async def fetch_rows(conn: AsyncConnection, first: int = PAGE_SIZE) -> Rows:
    """The 4 queries, one per level of the document, as the gateway's DataLoaders batch them."""
    product_rows = (await conn.execute(PRODUCTS, {"limit": first})).all()
    variant_rows = (await conn.execute(VARIANTS, {"ids": [p.id for p in product_rows]})).all()
    level_rows = (await conn.execute(LEVELS, {"ids": [v.id for v in variant_rows]})).all()
    location_ids = sorted({lv.location_id for lv in level_rows})
    location_rows = (await conn.execute(LOCATIONS, {"ids": location_ids})).all()
    return product_rows, variant_rows, level_rows, location_rows


def _gid(type_name: str, key: int) -> str:
    # The gateway's opaque ids: base64 of "Type:key".
    return b64encode(f"{type_name}:{key}".encode()).decode()


def _money(minor: int, currency: str) -> dict[str, str]:
    # Exact decimal string, the same digits as the gateway's Decimal scalar.
    return {"amount": str(Decimal(minor).scaleb(-minor_units(currency))), "currencyCode": currency}


def build_response(rows: Rows, currency: str = "USD") -> dict[str, Any]:
    """The response document, field for field what the gateway answers to the listing query."""
    product_rows, variant_rows, level_rows, location_rows = rows
    location_json = {loc.id: {"id": _gid("Location", loc.id), "name": loc.name} for loc in location_rows}
    inventory: defaultdict[int, list[dict[str, Any]]] = defaultdict(list)
    for lv in level_rows:
        inventory[lv.variant_id].append(
            {
                "onHand": lv.on_hand,
                "reserved": lv.reserved,
                "available": max(lv.on_hand - lv.reserved, 0),
                "location": location_json[lv.location_id],
            }
        )
    by_product: defaultdict[int, list[Any]] = defaultdict(list)
    for v in variant_rows:
        by_product[v.product_id].append(v)
    edges = []
    for p in product_rows:
        own = by_product[p.id]
        cheapest = min(own, key=lambda v: v.price_minor, default=None)
        min_price = _money(cheapest.price_minor, cheapest.currency_code) if cheapest else _money(0, currency)
        node_variants = []
        for v in own:
            levels = inventory[v.id]
            node_variants.append(
                {
                    "id": _gid("ProductVariant", v.id),
                    "sku": v.sku,
                    "title": v.title,
                    "price": _money(v.price_minor, v.currency_code),
                    "quantityAvailable": sum(lv["available"] for lv in levels),
                    "inventory": levels,
                }
            )
        node = {
            "id": _gid("Product", p.id),
            "title": p.title,
            "handle": p.handle,
            "priceRange": {"minVariantPrice": min_price},
            "variants": node_variants,
        }
        edges.append({"node": node})
    return {"data": {"products": {"edges": edges}}}


def create_app(database_url: str) -> Starlette:
    engine: AsyncEngine = create_async_engine(database_url)
    static: dict[str, Any] = {}  # the listing's response, read once in the lifespan

    async def from_db(request: Request) -> dict[str, Any]:
        orjson.loads(await request.body())  # read and parse the request like any JSON endpoint
        async with engine.connect() as conn:
            return build_response(await fetch_rows(conn))

    async def from_memory(request: Request) -> dict[str, Any]:
        orjson.loads(await request.body())
        return static

    async def db_orjson(request: Request) -> Response:
        return Response(orjson.dumps(await from_db(request)), media_type="application/json")

    async def db_json(request: Request) -> Response:
        return JSONResponse(await from_db(request))

    async def static_orjson(request: Request) -> Response:
        return Response(orjson.dumps(await from_memory(request)), media_type="application/json")

    async def static_json(request: Request) -> Response:
        return JSONResponse(await from_memory(request))

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with engine.connect() as conn:
            static.update(build_response(await fetch_rows(conn)))
        try:
            yield
        finally:
            await engine.dispose()

    routes = [
        Route("/static/orjson", static_orjson, methods=["POST"]),
        Route("/static/json", static_json, methods=["POST"]),
        Route("/db/orjson", db_orjson, methods=["POST"]),
        Route("/db/json", db_json, methods=["POST"]),
        Route("/healthz", healthz),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.baseline")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database", required=True, help="path of the SQLite file")
    args = parser.parse_args()
    app = create_app(f"sqlite+aiosqlite:///{args.database}")
    # The same loop and HTTP implementation choices as `omnigate serve`.
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", loop="auto", http="auto")


if __name__ == "__main__":
    main()
