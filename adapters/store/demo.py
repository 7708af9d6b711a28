"""A deterministic demo retailer, "Cascade Outfitters": outdoor apparel and gear, US West Coast,
and a second market in British Columbia priced in CAD (with app-only, store and member prices).

Pure data generation (no I/O): the same seed and `now` always give the same rows, so demos,
benchmarks and tests can rely on stable ids, SKUs and stock figures.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

DEFAULT_NOW = datetime(2026, 11, 1, tzinfo=UTC)

# Hand-laid data tables: kept dense on purpose, so the formatter leaves them alone.
# fmt: off

# (name, SKU prefix, weight): the house brand dominates, as it would at a real retailer.
BRANDS = (
    ("Cascade Outfitters", "CO", 5), ("Summit Forge", "SF", 2), ("Tidewater Supply", "TS", 2),
    ("Northbound", "NB", 2), ("Larch & Basalt", "LB", 1),
)

COLOR_CODES = {
    "Black": "BLK", "Charcoal": "CHR", "Forest": "FOR", "Glacier Blue": "GLB", "Rust": "RST",
    "Sand": "SND", "Navy": "NVY", "Moss": "MOS", "Slate": "SLT", "Ember Orange": "EMB",
}
COLORS = list(COLOR_CODES)
LETTER_SIZES = ["XS", "S", "M", "L", "XL", "XXL"]
WAIST_SIZES = ["28", "30", "32", "34", "36", "38"]
SHOE_SIZES = ["7", "8", "8.5", "9", "9.5", "10", "10.5", "11", "12", "13"]
# Ladders run cheapest to dearest, so a category's price step follows the ladder index.
VOLUMES = ["18L", "22L", "28L", "34L", "40L", "48L", "55L", "65L"]
CAPACITIES = ["1-Person", "2-Person", "3-Person", "4-Person", "6-Person"]
RATINGS = ["40°F", "30°F", "20°F", "15°F", "0°F"]
LENGTHS = ["Regular", "Long"]
# Extra cents for outsize variants, charged by some products only.
UPCHARGES = {"XXL": 500, "38": 500, "12": 500, "13": 500, "Long": 2000}

ADJECTIVES = (
    "Ridgeline", "Alpine", "Basalt", "Cedar", "Olympic", "Timberline", "Switchback", "Tidepool",
    "Headland", "Sitka", "Juniper", "Granite", "Driftwood", "Skyline", "Trailhead", "Glacier",
    "Fernwood", "Madrone", "Redwood", "Sierra", "Shasta", "Whidbey", "Orcas", "Lupine", "Cinder",
    "Talus", "Cirque", "Scree", "Marten", "Osprey", "Kestrel", "Huckleberry", "Salal",
    "Rainshadow", "Hoh", "Cowlitz",
)
SHARED_TAGS = ("new-arrival", "bestseller", "recycled", "pnw-tested")
CLOSERS = (
    "Designed and field-tested in the Pacific Northwest.",
    "Backed by our lifetime repair program.",
    "Made in a Fair Trade Certified factory.",
    "A staff favourite at every Cascade Outfitters store.",
    "Bluesign-approved materials throughout.",
    "Returns are free within 60 days, used or not.",
)


class Category(NamedTuple):
    name: str
    code: str
    count: int
    price: tuple[int, int]  # whole dollars
    axes: tuple[tuple[str, list[str]], ...]
    step: int  # cents added per rung up the first option's ladder
    nouns: dict[str, str]  # product noun -> what it is made of, so the copy matches the item
    uses: tuple[str, ...]
    tags: tuple[str, ...]


APPAREL = (("Size", LETTER_SIZES), ("Color", COLORS))
CATEGORIES = (
    Category("Jackets", "JKT", 26, (120, 450), APPAREL, 0, {
        "Rain Jacket": "a 2.5-layer waterproof-breathable nylon with fully taped seams",
        "Storm Shell": "a 3-layer waterproof membrane shell with a stiffened hood brim",
        "Down Jacket": "800-fill responsibly sourced down under a 20D ripstop face",
        "Insulated Parka": "700-fill down baffles under a waterproof recycled polyester shell",
        "Softshell": "a stretch-woven recycled nylon with a PFC-free water repellent finish",
        "Wind Shell": "a featherweight 15D nylon that packs into its own chest pocket",
        "Puffy Hoody": "synthetic insulation that stays warm when the drizzle never quits",
    }, ("It shrugs off sideways Puget Sound weather on the commute and the trail alike",
        "The hem sits long enough in back to stay tucked under a hip belt",
        "An adjustable hood cinches down one-handed in gusty wind"),
       ("outerwear", "packable", "hooded", "layering")),
    Category("Fleece & Midlayers", "FLC", 20, (60, 180), APPAREL, 0, {
        "Fleece Pullover": "a 200-weight recycled polyester fleece",
        "Grid Fleece Hoody": "a grid-back fleece that traps heat and sheds moisture",
        "Quarter-Zip": "a brushed-back stretch fleece",
        "Fleece Vest": "a high-pile sherpa fleece with a wind-resistant yoke",
        "Sweater Fleece": "a heathered sweater-knit fleece face",
        "Active Insulation Jacket": "breathable synthetic insulation with a stretch-knit lining",
    }, ("Layer it under a shell for cold alpine starts or wear it alone around camp",
        "It breathes well enough to keep on from trailhead to summit",
        "A low-profile collar sits cleanly under a jacket hood"),
       ("fleece", "midlayer", "warm", "layering")),
    Category("Base Layers", "BSL", 20, (45, 90), APPAREL, 0, {
        "Merino Crew": "a 150-weight merino wool jersey",
        "Merino Bottoms": "a 200-weight merino wool rib knit",
        "Sun Hoody": "a quick-drying recycled polyester knit with UPF 50+ sun protection",
        "Base Layer Tee": "a merino-nylon core-spun jersey",
        "Long-Sleeve Crew": "a lightweight Tencel and merino blend",
        "Zip-Neck Top": "a midweight grid-knit polyester",
    }, ("It manages sweat and resists odor over multi-day trips",
        "Flatlock seams stay comfortable under a loaded pack",
        "Wear it alone on warm climbs or as the first of three layers in winter"),
       ("base-layer", "odor-resistant", "travel", "layering")),
    Category("Pants", "PNT", 22, (65, 160), (("Size", WAIST_SIZES), ("Color", COLORS)), 0, {
        "Hiking Pant": "a 4-way stretch nylon with a durable water repellent finish",
        "Climbing Pant": "a stretch cotton-nylon twill with a gusseted crotch",
        "Rain Pant": "a 2.5-layer waterproof nylon with full-length side zips",
        "Trail Jogger": "a breathable stretch-woven polyester with tapered cuffs",
        "Convertible Pant": "a quick-drying nylon ripstop with zip-off legs",
        "Canvas Work Pant": "an abrasion-resistant organic cotton canvas",
    }, ("Articulated knees keep you moving on high steps",
        "Zip pockets hold a phone and a trail permit on scrambles",
        "It looks just as at home at the brewery after the hike"),
       ("hiking", "stretch", "trail", "everyday")),
    Category("Shorts", "SHT", 14, (40, 80), APPAREL, 0, {
        "Trail Short": "a featherweight recycled nylon ripstop",
        "Hiking Short": "a stretch nylon with a durable water repellent finish",
        "Climbing Short": "a stretch cotton-hemp twill",
        "Water Short": "a quick-drying polyester with a mesh brief liner",
        "Running Short": "a silky recycled polyester with a built-in liner",
    }, ("They dry in minutes after a dip in an alpine lake",
        "A flat waistband means nothing digs in under a pack",
        "Made for hot days on the Pacific Crest Trail"),
       ("quick-dry", "summer", "hiking", "trail")),
    Category("Footwear", "FTW", 24, (90, 220), (("Size", SHOE_SIZES), ("Color", COLORS)), 0, {
        "Hiking Boot": "a waterproof full-grain leather upper and a lugged Vibram outsole",
        "Trail Runner": "an engineered mesh upper over a cushioned EVA midsole",
        "Approach Shoe": "a suede upper with a sticky rubber climbing zone at the toe",
        "Camp Sandal": "recycled webbing straps on a contoured foam footbed",
        "Winter Boot": "a waterproof nubuck upper with 200g synthetic insulation",
        "Mid Hiker": "a waterproof mesh-and-suede upper over a supportive shank",
    }, ("The outsole grips wet basalt and muddy Cascade trails",
        "A wide toe box leaves room for swelling feet on long days",
        "Light enough to pack for a week on the trail"),
       ("footwear", "trail", "hiking", "all-terrain")),
    Category("Backpacks", "BPK", 20, (60, 280), (("Volume", VOLUMES), ("Color", COLORS)), 1000, {
        "Daypack": "a 210D recycled ripstop nylon body with a 420D base",
        "Backpacking Pack": "a 420D nylon body on an aluminum stay suspension",
        "Travel Pack": "a weatherproof 600D recycled polyester with a clamshell opening",
        "Summit Pack": "a stripped-down, abrasion-resistant Dyneema-blend body",
        "Hydration Pack": "a ventilated mesh back panel and a reservoir sleeve",
        "Commuter Pack": "a waterproof roll-top body of TPU-coated nylon",
    }, ("Side stretch pockets keep bottles and snacks within reach",
        "The adjustable harness fits torsos from short to tall",
        "It carries a full day's kit to the Enchantments and back"),
       ("packs", "travel", "trail", "everyday")),
    Category("Tents", "TNT", 16, (180, 650), (("Capacity", CAPACITIES),), 6000, {
        "Backpacking Tent": "a silicone-coated 20D ripstop nylon fly over a mesh inner",
        "Camping Tent": "a 68D polyester fly that holds its pitch when wet",
        "Ultralight Tent": "a 15D silnylon single wall that pitches with trekking poles",
        "Dome Tent": "color-coded aluminum poles and a bathtub floor",
        "Basecamp Tent": "a 150D polyester floor and a full-coverage fly",
    }, ("Two doors and two vestibules end the midnight climb-over",
        "It pitches fly-first to keep the inside dry in Olympic rain",
        "Stout enough for windy nights on the Oregon coast"),
       ("camping", "backpacking", "shelter", "3-season")),
    Category("Sleeping Bags", "SLP", 14, (110, 480),
             (("Temperature Rating", RATINGS), ("Length", LENGTHS)), 2000, {
        "Down Sleeping Bag": "650-fill hydrophobic down in a 15D nylon shell",
        "Synthetic Sleeping Bag": "synthetic insulation that keeps its loft when damp",
        "Sleeping Quilt": "850-fill down in an open-back quilt that pairs with any pad",
        "Mummy Bag": "continuous baffles of down and a full draft collar",
    }, ("It compresses small enough for a weekend pack",
        "A contoured footbox keeps the chill out on shoulder-season nights",
        "Temperature ratings are ISO 23537 tested, so the numbers mean something"),
       ("sleep", "camping", "backpacking", "3-season")),
    Category("Accessories", "ACC", 24, (12, 45), (("Color", COLORS),), 0, {
        "Beanie": "a soft merino-acrylic rib knit",
        "Trucker Cap": "an organic cotton canvas front and a breathable mesh back",
        "Liner Gloves": "a touchscreen-compatible stretch polyester knit",
        "Neck Gaiter": "a seamless recycled polyester tube with UPF 50+",
        "Trail Socks": "a cushioned merino wool blend",
        "Water Bottle": "double-wall vacuum-insulated stainless steel",
        "Camp Mug": "powder-coated stainless steel with a sip lid",
        "Stuff Sack": "a waterproof 30D siliconized nylon",
    }, ("Small enough to live in the lid pocket of any pack",
        "An easy add-on for every trip to the trailhead",
        "It makes a good gift for the hiker who has everything"),
       ("gift", "camp", "everyday", "small")),
)

LOCATION_FIELDS = (
    "code", "name", "kind", "address1", "address2", "city", "province", "province_code", "zip",
    "phone", "latitude", "longitude", "pickup_enabled", "ship_from_store_enabled",
)
# LOCATION_FIELDS in order, then (weekday, saturday, sunday) hours; None means closed.
LOCATIONS = (
    ("SEA-PIKE", "Seattle Pike Place", "STORE", "1511 1st Ave", None, "Seattle", "Washington",
     "WA", "98101", "+1 206-555-0143", 47.6097, -122.3422, True, True,
     ("09:00-20:00", "09:00-20:00", "10:00-18:00")),
    ("BEL-SQR", "Bellevue Square", "STORE", "10610 NE 8th St", "Suite 120", "Bellevue",
     "Washington", "WA", "98004", "+1 425-555-0118", 47.6171, -122.1996, True, False,
     ("10:00-21:00", "10:00-21:00", "11:00-19:00")),
    ("PDX-PEARL", "Portland Pearl District", "STORE", "1103 NW Couch St", None, "Portland",
     "Oregon", "OR", "97209", "+1 503-555-0127", 45.52396, -122.68261, True, True,
     ("10:00-19:00", "10:00-19:00", "11:00-17:00")),
    ("SFO-HAYES", "San Francisco Hayes Valley", "STORE", "455 Hayes St", None, "San Francisco",
     "California", "CA", "94102", "+1 415-555-0162", 37.7768, -122.4240, True, False,
     ("10:00-20:00", "10:00-20:00", "11:00-18:00")),
    ("BRK-4TH", "Berkeley Fourth Street", "STORE", "1820 4th St", None, "Berkeley",
     "California", "CA", "94710", "+1 510-555-0134", 37.8708, -122.3009, False, True,
     ("10:00-19:00", "09:00-19:00", "10:00-17:00")),
    ("SAC-MIDT", "Sacramento Midtown", "STORE", "1801 L St", "Suite 40", "Sacramento",
     "California", "CA", "95811", "+1 916-555-0109", 38.5734, -121.4826, True, False,
     ("10:00-19:00", "10:00-18:00", None)),
    ("LAX-SLVR", "Los Angeles Silver Lake", "STORE", "3935 W Sunset Blvd", None, "Los Angeles",
     "California", "CA", "90029", "+1 323-555-0171", 34.0908, -118.2784, True, True,
     ("10:00-20:00", "10:00-20:00", "11:00-18:00")),
    ("SAN-LITL", "San Diego Little Italy", "STORE", "1640 India St", None, "San Diego",
     "California", "CA", "92101", "+1 619-555-0189", 32.7226, -117.1689, True, False,
     ("10:00-20:00", "09:00-20:00", "10:00-18:00")),
    ("WH-RNO", "Reno-Sparks Distribution Center", "WAREHOUSE", "1255 Greg St", "Building B",
     "Sparks", "Nevada", "NV", "89431", "+1 775-555-0150", 39.5228, -119.7623, False, False,
     None),
    ("WH-KNT", "Kent Fulfillment Center", "WAREHOUSE", "8020 S 212th St", None, "Kent",
     "Washington", "WA", "98032", "+1 253-555-0166", 47.4118, -122.2320, False, False, None),
)
# The second market: stores in British Columbia, priced in CAD (ids follow the US locations).
CANADIAN_LOCATIONS = (
    ("YVR-GAST", "Vancouver Gastown", "STORE", "321 Water St", None, "Vancouver",
     "British Columbia", "BC", "V6B 1B8", "+1 604-555-0131", 49.2847, -123.1089, True, True,
     ("10:00-20:00", "10:00-20:00", "11:00-18:00")),
    ("YYJ-LOWR", "Victoria Lower Johnson", "STORE", "560 Johnson St", None, "Victoria",
     "British Columbia", "BC", "V8W 1M2", "+1 250-555-0147", 48.4284, -123.3680, True, False,
     ("10:00-18:00", "10:00-18:00", "11:00-17:00")),
)
WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY")
VIEWS = ("front view", "back view", "detail")
# fmt: on


@dataclass(frozen=True, slots=True)
class DemoCatalog:
    products: list[dict]
    variants: list[dict]
    locations: list[dict]
    inventory_levels: list[dict]
    markets: list[dict]
    price_lists: list[dict]
    prices: list[dict]


def demo_catalog(seed: int = 7, now: datetime | None = None) -> DemoCatalog:
    """Build the whole demo retailer; one Random drives everything, so order of calls matters."""
    now = now or DEFAULT_NOW
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")  # a naive time would vary by machine
    now = now.astimezone(UTC)
    rng = random.Random(seed)
    seen_titles: set[str] = set()
    drafts = [
        _product(rng, category, title, noun, now)
        for category in CATEGORIES
        for title, noun in _titles(rng, category, seen_titles)
    ]
    # Ids follow creation time, as they would in a live database.
    products = sorted(drafts, key=lambda p: p["created_at"])
    variants: list[dict] = []
    for pid, product in enumerate(products, start=1):
        product["id"] = pid
        category = next(c for c in CATEGORIES if c.name == product["category"])
        prefix = next(code for name, code, _ in BRANDS if name == product["vendor"])
        stem = f"{prefix}-{category.code}-{pid:04d}"
        variants.extend(_variants(rng, category, pid, stem, len(variants) + 1))
    locations = [_location(i, row) for i, row in enumerate(LOCATIONS, start=1)]
    levels = _inventory(rng, variants, locations, now)
    # The Canadian stores draw from a Random of their own: the US stock figures stay as they were.
    canadian = [
        _location(i, row, CANADA) for i, row in enumerate(CANADIAN_LOCATIONS, start=len(locations) + 1)
    ]
    levels += _inventory(random.Random(seed * 1009 + 1), variants, canadian, now)
    price_lists, prices = _price_lists(variants, vancouver=canadian[0]["id"])
    return DemoCatalog(products, variants, locations + canadian, levels, list(MARKETS), price_lists, prices)


def _titles(rng: random.Random, category: Category, seen: set[str]) -> list[tuple[str, str]]:
    # Sampling the full adjective x noun grid avoids retry loops; `seen` guards across categories.
    grid = [(f"{adj} {noun}", noun) for adj in ADJECTIVES for noun in category.nouns]
    picked = [pair for pair in rng.sample(grid, len(grid)) if pair[0] not in seen][: category.count]
    seen.update(title for title, _ in picked)
    return picked


def _product(rng: random.Random, category: Category, title: str, noun: str, now: datetime) -> dict:
    handle = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    opener = rng.choice(("Built from", "Made with", "Crafted from"))
    sentences = [f"{opener} {category.nouns[noun]}."]
    extra = rng.choice([0, 1, 1, 2])
    if extra >= 1:
        sentences.append(f"{rng.choice(category.uses)}.")
    if extra == 2:
        sentences.append(rng.choice(CLOSERS))
    images = [
        {
            "url": f"https://images.example.com/{handle}-{n}.jpg",
            "altText": f"{title}, {view}",
            "width": 1200,
            "height": 1600,
        }
        for n, view in enumerate(VIEWS[: rng.randint(1, 3)], start=1)
    ]
    created = now - timedelta(seconds=rng.randrange(2 * 365 * 86400))
    updated = created + timedelta(seconds=rng.randrange(int((now - created).total_seconds()) + 1))
    return {
        "id": 0,  # numbered once every product exists
        "handle": handle,
        "title": title,
        "description": " ".join(sentences),
        "vendor": rng.choices([b[0] for b in BRANDS], weights=[b[2] for b in BRANDS])[0],
        "category": category.name,
        "tags": rng.sample(category.tags + SHARED_TAGS, rng.randint(1, 4)),
        "images": images,
        "created_at": created,
        "updated_at": updated,
    }


def _pick(rng: random.Random, name: str, ladder: list[str], count: int) -> list[str]:
    # Colours are a free choice; sizes, volumes and the like come as a contiguous run.
    if name == "Color":
        return rng.sample(ladder, count)
    start = rng.randrange(len(ladder) - count + 1)
    return ladder[start : start + count]


def _code(value: str) -> str:
    if value in COLOR_CODES:
        return COLOR_CODES[value]
    return re.sub(r"[^A-Z0-9]", "", value.upper().replace("-PERSON", "P").replace("ULAR", ""))


def _variants(rng: random.Random, category: Category, pid: int, stem: str, first_id: int) -> list:
    count = rng.randint(2, 4)
    # A second axis only splits evenly into 2 or 4 variants; otherwise it holds a single value.
    second = 2 if len(category.axes) > 1 and count != 3 and rng.random() < 0.4 else 1
    (name1, ladder1), *rest = category.axes
    values1 = _pick(rng, name1, ladder1, count // second)
    values2 = _pick(rng, rest[0][0], rest[0][1], second) if rest else [None]
    low, high = category.price
    top = max(low, high - category.step * (len(values1) - 1) // 100)
    base = rng.randint(low, top) * 100 + rng.choice([0, 50, 95])
    upcharge = rng.random() < 0.3
    markup = rng.uniform(1.15, 1.4) if rng.random() < 0.2 else None
    rows = []
    combos = [(rung, v1, v2) for rung, v1 in enumerate(values1) for v2 in values2]
    for index, (rung, v1, v2) in enumerate(combos):
        options = [{"name": name1, "value": v1}]
        if v2 is not None:
            options.append({"name": rest[0][0], "value": v2})
        price = base + category.step * rung
        price += sum(UPCHARGES.get(o["value"], 0) for o in options) if upcharge else 0
        rows.append(
            {
                "id": first_id + index,
                "product_id": pid,
                "sku": "-".join([stem, *(_code(o["value"]) for o in options)]),
                "title": " / ".join(o["value"] for o in options),
                "options": options,
                "position": index + 1,
                "price_minor": price,
                # Round the pre-sale price up to a whole dollar and end it in 95, as shelf tags do.
                "compare_at_minor": math.ceil(price * markup / 100) * 100 - 5 if markup else None,
            }
        )
    return rows


UNITED_STATES = ("United States", "US", "America/Los_Angeles")
CANADA = ("Canada", "CA", "America/Vancouver")
# fmt: off
MARKETS = ({"country_code": "US", "currency_code": "USD"}, {"country_code": "CA", "currency_code": "CAD"})
# The demo's price lists: (code, name, currency, channel, store, tier, valid from, valid until,
# which variants (id % n == 1), percent off the list it discounts). Variant 1 is on every list.
NOT_IN_CANADA = 20  # products whose id is a multiple of this are not sold in Canada
SPRING_SALE = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
PRICE_LISTS = (
    ("CA-STANDARD", "Canada", "CAD", None, None, None, None, None, 1, 0),
    ("US-APP", "App-only prices", "USD", "MOBILE_APP", None, None, None, None, 7, 10),
    ("CA-APP", "App-only prices, Canada", "CAD", "MOBILE_APP", None, None, None, None, 7, 10),
    ("US-GOLD", "Gold member prices", "USD", None, None, "GOLD", None, None, 5, 15),
    ("CA-GOLD", "Gold member prices, Canada", "CAD", None, None, "GOLD", None, None, 5, 15),
    ("CA-YVR", "Vancouver Gastown store prices", "CAD", None, "VANCOUVER", None, None, None, 3, 5),
    ("CA-YVR-GOLD", "Vancouver Gastown, Gold members", "CAD", None, "VANCOUVER", "GOLD", None, None,
     15, 20),
    ("CA-SPRING-2026", "Spring sale 2026, Canada", "CAD", None, None, None, *SPRING_SALE, 4, 25),
)
# fmt: on


def cad_shelf_price(usd_minor: int) -> int:
    """The demo retailer's Canadian shelf price for a US price: its own list, set once by the
    retailer (the gateway itself never converts a price)."""
    return math.ceil(usd_minor * 136 / 10000) * 100 - 5


def _discounted(minor: int, percent: int) -> int:
    """`percent` off, ending in .95 below the result."""
    return max(math.floor(minor * (100 - percent) / 10000) * 100 - 5, 95)


def _price_lists(variants: list, vancouver: int) -> tuple[list[dict], list[dict]]:
    lists, rows = [], []
    for list_id, (code, name, currency, channel, store, tier, start, end, every, off) in enumerate(
        PRICE_LISTS, start=1
    ):
        lists.append({
            "id": list_id, "code": code, "name": name, "currency_code": currency, "channel": channel,
            "location_id": vancouver if store == "VANCOUVER" else None, "member_tier": tier,
            "valid_from": start, "valid_until": end,
        })  # fmt: skip
        for v in variants:
            if v["id"] % every != 1 % every:
                continue
            if currency == "CAD" and v["product_id"] % NOT_IN_CANADA == 0:
                continue  # not sold in Canada: no Canadian list prices it
            shelf = v["price_minor"] if currency == "USD" else cad_shelf_price(v["price_minor"])
            if off == 0:  # the market's standing list: its compare-at follows the catalog's
                was = v["compare_at_minor"]
                was = None if was is None else cad_shelf_price(was)
                amount, compare_at = shelf, was if was is not None and was > shelf else None
            else:
                amount, compare_at = _discounted(shelf, off), shelf
            rows.append({"price_list_id": list_id, "variant_id": v["id"], "amount_minor": amount,
                         "compare_at_minor": compare_at})  # fmt: skip
    return lists, rows


def _location(lid: int, row: tuple, country: tuple[str, str, str] = UNITED_STATES) -> dict:
    *fields, hours = row
    opening_hours = []
    if hours:
        days = [(d, hours[0]) for d in WEEKDAYS] + [("SATURDAY", hours[1]), ("SUNDAY", hours[2])]
        opening_hours = [
            {"day": day, **dict(zip(("opens", "closes"), span.split("-"), strict=True))}
            for day, span in days
            if span  # a closed day is simply absent
        ]
    location = {"id": lid, **dict(zip(LOCATION_FIELDS, fields, strict=True))}
    location["name"] = f"Cascade Outfitters {location['name']}"
    location.update(country=country[0], country_code=country[1], timezone=country[2])
    return {**location, "opening_hours": opening_hours}


def _inventory(rng: random.Random, variants: list, locations: list, now: datetime) -> list:
    rows = []
    warehouse_only: dict[int, bool] = {}
    for variant in variants:
        # Some lines are online exclusives (warehouse stock only); a few variants are sold out.
        pid = variant["product_id"]
        if pid not in warehouse_only:
            warehouse_only[pid] = rng.random() < 0.06
        sold_out = rng.random() < 0.03
        for location in locations:
            if sold_out:
                on_hand = 0
            elif location["kind"] == "WAREHOUSE":
                on_hand = rng.randint(20, 200)
            elif warehouse_only[pid] or rng.random() < 0.12:
                on_hand = 0
            else:
                on_hand = rng.randint(1, 15)
            rows.append(
                {
                    "variant_id": variant["id"],
                    "location_id": location["id"],
                    "on_hand": on_hand,
                    "reserved": 0,
                    "updated_at": now,
                }
            )
    return rows
