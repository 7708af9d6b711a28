"""Generated bad input (issue 11): schemathesis sends every query and mutation of the gateway's
schema, with generated arguments and selections, to a real `omnigate serve` on the embedded demo
database, as an anonymous caller and as a signed-in member (and, for the operations only they
may run, as staff and as the stock integration).

schemathesis's default GraphQL check counts every error that is not a validation error as a
server failure, including the contract's intended `BAD_USER_INPUT` and `NOT_FOUND`; it is
replaced here by `contract_check`, which encodes the contract instead: no 5xx, no traceback, a
well-formed GraphQL response, and every error coded with a contract code other than INTERNAL.

Arguments come from hypothesis-graphql, valid and invalid (`mode: all`); ids are drawn half from
the demo's real ids (products, variants, locations, members, and a cart, order, fulfillment and
lines made before the run) and half from garbage, so the use cases behind the ids run too.

The seed is fixed (`SEED`), so a failure reproduces; `OMNIGATE_FUZZ_EXAMPLES` (default 20 per
operation and caller) runs more. The number of cases run is printed when the module ends (`-s`
shows it) and recorded in docs/fuzzing.md.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any, NamedTuple

import httpx
import jsonschema_rs
import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.graphql import nodes

from gateway.errors import CODES
from schema import build_schema
from schema.ids import to_global_id
from tests.commerce import CART_CREATE, CHECKOUT, VISA, line
from tests.conftest import BACKENDS, MEMBER_TOKENS
from tests.servers import serving

SEED = 20261130
EXAMPLES = int(os.environ.get("OMNIGATE_FUZZ_EXAMPLES", "20"))
ALLOWED_CODES = CODES - {"INTERNAL"}
MEMBER = {"Authorization": f"Bearer {MEMBER_TOKENS[0]['token']}"}
# Staff of every demo location, and the integration that posts stock: the back-office callers,
# for the operations only they get past authorization in.
STAFF_TOKEN, INTEGRATION_TOKEN = "fuzz-staff", "fuzz-integration"
STAFF = {"Authorization": f"Bearer {STAFF_TOKEN}"}
INTEGRATION = {"Authorization": f"Bearer {INTEGRATION_TOKEN}"}
STAFF_OPERATIONS = [
    "Query.order", "Query.node", "Mutation.fulfillmentUpdateStatus", "Mutation.orderCancel",
    "Mutation.storeSaleRecord", "Mutation.returnCreate", "Mutation.giftCardIssue",
]  # fmt: skip

# The GraphQL response format (GraphQL spec, "Response"): an object of data / errors /
# extensions only; errors a non-empty list of {message, locations, path, extensions}; no `data`
# only when there are errors. The contract adds: every error has a code, and not INTERNAL.
RESPONSE_FORMAT = jsonschema_rs.validator_for(
    {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "data": {"type": ["object", "null"]},
            "errors": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["message", "extensions"],
                    "properties": {
                        "message": {"type": "string", "minLength": 1},
                        "locations": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["line", "column"],
                                "properties": {
                                    "line": {"type": "integer", "minimum": 1},
                                    "column": {"type": "integer", "minimum": 1},
                                },
                            },
                        },
                        "path": {"type": "array", "minItems": 1, "items": {"type": ["string", "integer"]}},
                        "extensions": {
                            "type": "object",
                            "required": ["code"],
                            "properties": {"code": {"enum": sorted(ALLOWED_CODES)}},
                        },
                    },
                },
            },
            "extensions": {"type": "object"},
        },
        "if": {"not": {"required": ["errors"]}},
        "then": {"required": ["data"], "properties": {"data": {"type": "object"}}},
    }
)
# A Python traceback, or a frame of one, also as it reads inside a JSON string.
TRACEBACK = re.compile(r'Traceback \(most recent call last\)|File \\?"[^"]+?\\?", line \d+')


def contract_check(ctx: Any, response: Any, case: Any) -> bool | None:
    """The schema contract's promise for any input: a coded GraphQL answer, never a crash."""
    assert response.status_code < 500, f"HTTP {response.status_code}: {response.text[:500]}"
    assert not TRACEBACK.search(response.text), f"a traceback leaked: {response.text[:500]}"
    body = response.json()
    assert isinstance(body, dict), f"not a JSON object: {response.text[:500]}"
    codes = {e.get("extensions", {}).get("code") for e in body.get("errors") or [] if isinstance(e, dict)}
    if case is not None:  # not the check's own tests below
        outcomes.update(codes or {"data"})
    problems = [f"{e.instance_path}: {e.message}" for e in RESPONSE_FORMAT.iter_errors(body)]
    assert not problems, f"not a contract GraphQL response: {problems[:3]}\n{json.dumps(body)[:1000]}"
    return None


# --- What the generator draws ids and decimals from ---

# Real ids, filled when the gateway has started (a cart's id is its random secret).
ID_POOL: list[str] = [
    *(to_global_id("Product", n) for n in (1, 2, 200)),
    *(to_global_id("ProductVariant", n) for n in (1, 2, 3)),
    *(to_global_id("Location", n) for n in (1, 2, 3, 9, 10)),
    *(to_global_id("Member", m) for m in ("m1", "m2")),
]
TYPE_NAMES = ["Product", "ProductVariant", "Location", "Cart", "CartLine", "Order", "OrderLine",
              "Fulfillment", "Member", "Return", "Nope", ""]  # fmt: skip


def _b64(raw: str) -> str:
    return base64.b64encode(raw.encode("utf-8", "surrogatepass")).decode()


forged_ids = st.builds(
    lambda type_name, key: _b64(f"{type_name}:{key}"),
    st.sampled_from(TYPE_NAMES),
    st.one_of(
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.sampled_from(["0", "01", "1.0", " 1", "1e3", "٣", "m1", "x" * 43, "a" * 5000]),
        st.text(max_size=50),
    ),
)
pooled_ids = st.integers(min_value=0, max_value=10**6).map(lambda i: ID_POOL[i % len(ID_POOL)])
ids = st.one_of(pooled_ids, forged_ids, st.text(max_size=60)).map(nodes.String)
decimals = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["1e999999999", "-0.00", "0.001", "1e-400", "NaN", "-sNaN", "Infinity", "9" * 60]),
    st.text(max_size=20),
).map(nodes.String) | st.integers().map(nodes.Int) | st.floats(allow_nan=False).map(nodes.Float)
# Text: short, longer than most columns, and with NUL characters (PostgreSQL stores neither).
strings = st.one_of(
    st.text(max_size=30),
    st.text(min_size=300, max_size=700),
    st.builds("{}\x00{}".format, st.text(max_size=5), st.text(max_size=5)),
).map(nodes.String)
schemathesis.graphql.scalar("ID", ids)
schemathesis.graphql.scalar("String", strings)
schemathesis.graphql.scalar("Decimal", decimals)

# --- The gateway under test ---

# Loaded at collection time from the gateway's own schema object; the test below checks that
# the live server answers introspection with the same schema.
CONFIG = SchemathesisConfig.from_dict(
    {"seed": SEED, "generation": {"max-examples": EXAMPLES, "mode": "all", "database": "none"}}
)
schema = schemathesis.graphql.from_dict(build_schema().introspect(), config=CONFIG)
cases_run: Counter[str] = Counter()
outcomes: Counter[str] = Counter()  # "data" or an error code: shows the generator got past validation


def _post(base: str, query: str, variables: dict[str, Any], **headers: str) -> dict[str, Any]:
    body = httpx.post(f"{base}/graphql", json={"query": query, "variables": variables},
                      headers=headers, timeout=30).json()  # fmt: skip
    assert "errors" not in body, body
    return body["data"]


def _harvest(base: str) -> list[str]:
    """A guest cart, a member's cart and a member's order, for their ids."""
    guest = _post(base, CART_CREATE, {"input": {"lines": [line(1, 2), line(4, 1, "PICKUP", 1)]}})
    cart = guest["cartCreate"]["cart"]
    mine = _post(base, CART_CREATE, {"input": {"lines": [line(2, 1), line(5, 1, "PICKUP", 3)]}}, **MEMBER)
    paid = _post(base, CART_CREATE, {"input": {"lines": [line(3, 1), line(6, 1, "PICKUP", 2)]}}, **MEMBER)
    variables = {"cartId": paid["cartCreate"]["cart"]["id"], "payment": VISA, "key": uuid.uuid4().hex}
    order = _post(base, CHECKOUT, variables, **MEMBER)["checkoutComplete"]["order"]
    found = [cart["id"], mine["cartCreate"]["cart"]["id"], order["id"]]
    found += [ln["id"] for ln in cart["lines"]] + [ln["id"] for ln in order["lines"]]
    found += [f["id"] for f in order["fulfillments"]]
    return found


@pytest.fixture(scope="module", params=BACKENDS)
def live_gateway(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """The demo on the embedded SQLite, and on PostgreSQL when GATEWAY_TEST_DATABASE_URL is set
    (it refuses text that SQLite takes: NUL characters, strings over a column's length)."""
    data_dir = tmp_path_factory.mktemp("fuzz") / "data"
    database_url = None
    if request.param == "postgresql":
        templates = request.getfixturevalue("postgresql_templates")
        database_url = asyncio.run(templates.clone())
    staff = [{"token": STAFF_TOKEN, "subject": "staff:fuzz", "location_ids": list(range(1, 13))}]
    env = {
        "GATEWAY_MEMBER_TOKENS": json.dumps(MEMBER_TOKENS),
        "GATEWAY_STAFF_TOKENS": json.dumps(staff),
        "GATEWAY_INTEGRATION_TOKEN": INTEGRATION_TOKEN,
        "GATEWAY_DEV": "true",
    }
    with serving(data_dir, database_url, GATEWAY_SEED_DEMO="true", **env) as base:
        harvested = _harvest(base)
        ID_POOL.extend(harvested)
        yield Live(base, request.param)
        del ID_POOL[-len(harvested) :]
    ran = {k: n for k, n in sorted(cases_run.items()) if k.startswith(request.param)}
    print(f"\nschemathesis on {request.param}: {sum(ran.values())} cases run ({ran}); "
          f"answers: {dict(outcomes.most_common())}")  # fmt: skip
    outcomes.clear()


class Live(NamedTuple):
    base: str
    backend: str


def call(case: Any, live: Live, caller: str, headers: dict[str, str]) -> None:
    cases_run[f"{live.backend}/{caller}"] += 1
    url = f"{live.base}/graphql"
    case.call_and_validate(base_url=url, headers=headers, checks=[contract_check], timeout=30)


def test_the_live_server_publishes_the_schema_fuzzed(live_gateway: Live) -> None:
    query = "query IntrospectionQuery { __schema { types { name } } }"
    served = _post(live_gateway.base, query, {})["__schema"]["types"]
    fuzzed = schema.raw_schema["__schema"]["types"]
    assert sorted(t["name"] for t in served) == sorted(t["name"] for t in fuzzed)


@schema.parametrize()
def test_anonymous_caller_gets_contract_answers(case: Any, live_gateway: Live) -> None:
    call(case, live_gateway, "anonymous", {})


@schema.parametrize()
def test_member_gets_contract_answers(case: Any, live_gateway: Live) -> None:
    call(case, live_gateway, "member", MEMBER)


@schema.include(name=STAFF_OPERATIONS).parametrize()
def test_staff_get_contract_answers(case: Any, live_gateway: Live) -> None:
    call(case, live_gateway, "staff", STAFF)


@schema.include(name=["Mutation.inventoryAdjust"]).parametrize()
def test_the_stock_integration_gets_contract_answers(case: Any, live_gateway: Live) -> None:
    call(case, live_gateway, "integration", INTEGRATION)


class _Answer:
    def __init__(self, status: int, body: Any) -> None:
        self.status_code = status
        self.text = json.dumps(body)

    def json(self) -> Any:
        return json.loads(self.text)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, {"errors": [{"message": "boom", "extensions": {"code": "BAD_USER_INPUT"}}]}),
        (200, {"data": None, "errors": [{"message": "x", "extensions": {"code": "INTERNAL"}}]}),
        (200, {"errors": [{"message": "no code"}]}),
        (200, {"errors": [{"message": "x", "extensions": {"code": "TEAPOT"}}]}),
        (200, {"errors": []}),
        (200, {"data": {"a": 1}, "stray": True}),
        (200, {"extensions": {}}),
        (200, {"errors": [{"message": 'File "/app/x.py", line 3', "extensions": {"code": "NOT_FOUND"}}]}),
        (200, ["not", "an", "object"]),
    ],
)
def test_the_contract_check_fails_what_breaks_the_contract(status: int, body: Any) -> None:
    with pytest.raises(AssertionError):
        contract_check(None, _Answer(status, body), None)


def test_the_contract_check_passes_coded_errors_and_data() -> None:
    for body in (
        {"data": {"product": None}},
        {"errors": [{"message": "bad", "locations": [{"line": 1, "column": 2}],
                     "extensions": {"code": "BAD_USER_INPUT", "field": "id"}}]},
        {"data": {"a": None}, "errors": [{"message": "no", "path": ["a", 0],
                                          "extensions": {"code": "NOT_FOUND"}}], "extensions": {"cost": {}}},
    ):  # fmt: skip
        contract_check(None, _Answer(200, body), None)
