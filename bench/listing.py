"""The one document the benchmark sends, and where the benchmark keeps its files."""

from __future__ import annotations

from pathlib import Path

import orjson

from gateway.settings import Settings

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


CACHE_SETTINGS = ("response_cache", "entity_cache")  # each off in the variants that do the work


def gateway_variants() -> dict[str, dict[str, str]]:
    """The gateway configurations to measure, as GATEWAY_* settings (lower-case, no prefix); a
    variant whose settings this version of the gateway lacks is left out.

    `gateway` runs as shipped: its response cache answers the benchmark's identical requests from
    memory. `gateway-entity-cache` keeps the record cache only (what a query the response cache
    has not seen gets). `gateway-nocache` reads the database every request, the same work as the
    baseline; `gateway-standard` does that through strawberry's standard executor."""
    fields = Settings.model_fields
    no_cache = {name: "false" for name in CACHE_SETTINGS if name in fields}
    variants: dict[str, dict[str, str]] = {"gateway": {}}
    if "response_cache" in fields and "entity_cache" in fields:
        variants["gateway-entity-cache"] = {"response_cache": "false"}
    if no_cache:
        variants["gateway-nocache"] = no_cache
    if "compiled_execution" in fields:
        variants["gateway-standard"] = {"compiled_execution": "false", **no_cache}
    return variants
