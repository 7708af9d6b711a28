"""The one document the benchmark sends, and where the benchmark keeps its files."""

from __future__ import annotations

from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"  # gitignored: database, logs, wrk script
RESULTS = ROOT / "bench" / "RESULTS.md"

PAGE_SIZE = 50

# A storefront category page: 50 products, each variant's price and stock at every location.
_LISTING = (
    "query Listing { products(first: %d) { edges { node { id title handle "
    "priceRange { minVariantPrice { amount currencyCode } } "
    "variants { id sku title price { amount currencyCode } quantityAvailable "
    "inventory { onHand reserved available location { id name } } } } } } }"
)


def listing_query(first: int = PAGE_SIZE) -> str:
    return _LISTING % first


def listing_body(first: int = PAGE_SIZE) -> bytes:
    """The POST body every load tool sends: the same bytes, so the gateway's caches see one text."""
    return orjson.dumps({"query": listing_query(first)})
