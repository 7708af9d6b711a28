"""Before any load: every server must give the same answer, parsed and compared, or the bench stops.
Equal figures for unequal work would mean nothing."""

from __future__ import annotations

import urllib.request
from typing import Any

import orjson


def post(url: str, body: bytes) -> Any:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json", "Accept": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        return orjson.loads(answer.read())


def first_difference(a: Any, b: Any, path: str = "$") -> str | None:
    if type(a) is not type(b):
        return f"{path}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, dict):
        for key in sorted(a.keys() | b.keys()):
            if key not in a or key not in b:
                return f"{path}.{key}: only in the {'first' if key in a else 'second'}"
            if found := first_difference(a[key], b[key], f"{path}.{key}"):
                return found
    elif isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if found := first_difference(x, y, f"{path}[{i}]"):
                return found
    elif a != b:
        return f"{path}: {a!r} vs {b!r}"
    return None


def _without_extensions(answer: Any) -> Any:
    # A server's own metadata (the gateway reports the operation's cost there), not the answer.
    return {k: v for k, v in answer.items() if k != "extensions"} if isinstance(answer, dict) else answer


def same_answers(targets: dict[str, str], body: bytes, reference: str, what: str = "listing") -> Any:
    """Each server's answer to `body` (`data` and `errors`; `extensions` aside) must equal the
    reference server's; returns that answer."""
    expected = _without_extensions(post(targets[reference], body))
    if "errors" in expected or expected.get("data") is None:
        raise SystemExit(f"bench: ABORT: {reference} answered the {what} with {str(expected)[:300]}")
    for name, url in targets.items():
        if difference := first_difference(_without_extensions(post(url, body)), expected):
            raise SystemExit(f"bench: ABORT: {name}'s {what} differs from {reference}'s at {difference}")
    return expected


_PAGE = (
    "query Page { products(first: 3%s) { pageInfo { hasNextPage hasPreviousPage startCursor endCursor } "
    "edges { cursor node { id handle priceRange { maxVariantPrice { amount currencyCode } } } } "
    "nodes { id } } }"
)


def peers_paginate_alike(gateway_url: str, peers: dict[str, str]) -> None:
    """The parts of the peers' schema the listing leaves out (cursors, pageInfo, `after`, nodes,
    maxVariantPrice) answer like the gateway's, on the first page and the next."""
    if not peers:
        return
    targets = {"gateway": gateway_url, **peers}
    first = same_answers(targets, orjson.dumps({"query": _PAGE % ""}), "gateway", "first page")
    after = first["data"]["products"]["pageInfo"]["endCursor"]
    same_answers(targets, orjson.dumps({"query": _PAGE % f", after: {orjson.dumps(after).decode()}"}),
                 "gateway", "second page")  # fmt: skip


def product_page_answers(targets: dict[str, str], body: bytes) -> int:
    """Each server answers the product page without errors, with the same product and stores
    (pickupReadyBy follows the clock, so it is compared by presence only). Returns the variants."""
    answers = {name: post(url, body) for name, url in targets.items()}
    shapes = {}
    for name, answer in answers.items():
        product = (answer.get("data") or {}).get("product")
        if "errors" in answer or not product or not product["variants"]:
            raise SystemExit(f"bench: ABORT: {name} answered the product page with {str(answer)[:300]}")
        for variant in product["variants"]:
            if not variant["storeAvailability"]:
                raise SystemExit(f"bench: ABORT: {name}: no store near the point for {variant['sku']}")
            for row in variant["storeAvailability"]:
                row["pickupReadyBy"] = row["pickupReadyBy"] is not None
        shapes[name] = product
    reference, expected = next(iter(shapes.items()))
    for name, product in shapes.items():
        if difference := first_difference(product, expected):
            raise SystemExit(
                f"bench: ABORT: {name}'s product page differs from {reference}'s at {difference}"
            )
    return len(expected["variants"])
