"""The Node peers (bench/peers/): Apollo Server 5 and graphql-jit over the demo database's rows.

At bench start the rows the listing reads are exported to JSON (bench/.work/peer-rows.json);
`npm ci` installs the pinned packages once (skipped while bench/peers/node_modules is there).
Without node or npm the bench says so and runs without the peers.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import orjson
import sqlalchemy as sa

from adapters.records import minor_units
from adapters.store.tables import inventory_levels, locations, products, variants
from bench.listing import ROOT
from gateway.settings import Settings

PEERS_DIR = ROOT / "bench" / "peers"
NODE_MAJOR = 20  # what @apollo/server 5 requires
# name in the tables -> the server script in bench/peers/
PEERS = {"apollo-server": "apollo.mjs", "graphql-jit": "jit.mjs"}


def export_rows(database: Path, out: Path) -> Path:
    """Every product, variant, stock level and location the listing can show, as JSON rows."""
    engine = sa.create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as conn:
            product_rows = conn.execute(
                sa.select(products.c.id, products.c.title, products.c.handle).order_by(products.c.id)
            ).all()
            variant_rows = conn.execute(
                sa.select(
                    variants.c.id, variants.c.product_id, variants.c.sku, variants.c.title,
                    variants.c.price_minor, variants.c.currency_code,
                ).order_by(variants.c.product_id, variants.c.position)
            ).all()  # fmt: skip
            level_rows = conn.execute(
                sa.select(
                    inventory_levels.c.variant_id, inventory_levels.c.location_id,
                    inventory_levels.c.on_hand, inventory_levels.c.reserved,
                ).order_by(inventory_levels.c.variant_id, inventory_levels.c.location_id)
            ).all()  # fmt: skip
            location_rows = conn.execute(sa.select(locations.c.id, locations.c.name)).all()
    finally:
        engine.dispose()
    # The defaults the bench runs the gateway with (it clears every GATEWAY_* variable).
    default = {name: f.default for name, f in Settings.model_fields.items()}
    currencies = {v.currency_code for v in variant_rows} | {default["currency_code"]}
    document = {
        "currencyCode": default["currency_code"],
        "minorUnits": {c: minor_units(c) for c in sorted(currencies)},
        "defaultPageSize": min(default["default_page_size"], default["max_page_size"]),
        "maxPageSize": default["max_page_size"],
        "products": [{"id": p.id, "title": p.title, "handle": p.handle} for p in product_rows],
        "variants": [
            {
                "id": v.id,
                "productId": v.product_id,
                "sku": v.sku,
                "title": v.title,
                "priceMinor": v.price_minor,
                "currencyCode": v.currency_code,
            }
            for v in variant_rows
        ],
        "inventoryLevels": [
            {
                "variantId": lv.variant_id,
                "locationId": lv.location_id,
                "onHand": lv.on_hand,
                "reserved": lv.reserved,
            }
            for lv in level_rows
        ],
        "locations": [{"id": loc.id, "name": loc.name} for loc in location_rows],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(orjson.dumps(document))
    return out


def node_version(node: str) -> str:
    done = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=False)
    return done.stdout.strip()


def prepare() -> tuple[str | None, str]:
    """(the node binary, "") when the peers can run, else (None, why not)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing = " and ".join(n for n, p in (("node", node), ("npm", npm)) if p is None)
        return None, f"{missing} not found: install Node.js {NODE_MAJOR}+ with npm to measure the peers"
    version = node_version(node)
    major = re.match(r"v(\d+)", version)
    if major is None or int(major.group(1)) < NODE_MAJOR:
        return None, f"node {version or '?'} is too old: @apollo/server 5 needs Node.js {NODE_MAJOR}+"
    if not (PEERS_DIR / "node_modules").is_dir():
        print("bench: installing the Node peers (npm ci in bench/peers) ...", flush=True)
        command = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"]
        try:
            done = subprocess.run(command, cwd=PEERS_DIR, capture_output=True, text=True, timeout=900)
        except subprocess.TimeoutExpired:
            return None, "npm ci in bench/peers took over 15 minutes"
        if done.returncode != 0:
            shutil.rmtree(PEERS_DIR / "node_modules", ignore_errors=True)  # try again next run
            return None, f"npm ci in bench/peers failed: {(done.stderr or done.stdout).strip()[-400:]}"
    return node, ""


def argv(node: str, script: str, port: int, rows: Path) -> list[str]:
    return [node, str(PEERS_DIR / script), "--port", str(port), "--data", str(rows)]
