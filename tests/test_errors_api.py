"""Bad input through the API: every failure is a GraphQL error with a contract `extensions.code`,
answered with HTTP 200 (401 for bad credentials), never a 500, never a traceback."""

import base64

import pytest

import resolvers.catalog

PRODUCT_BY_ID = "query ($id: ID!) { product(id: $id) { id } }"
NODE = "query ($id: ID!) { node(id: $id) { id } }"
PRODUCTS = """
query ($first: Int, $after: String, $last: Int, $before: String, $query: String,
       $sortKey: ProductSortKeys! = ID) {
  products(first: $first, after: $after, last: $last, before: $before, query: $query,
           sortKey: $sortKey) {
    edges { cursor node { id } }
    pageInfo { endCursor }
  }
}"""
LOCATIONS = """
query ($first: Int, $after: String, $last: Int, $before: String, $near: GeoPointInput,
       $radiusKm: Float) {
  locations(first: $first, after: $after, last: $last, before: $before, near: $near,
            radiusKm: $radiusKm) {
    edges { cursor node { id } }
    pageInfo { endCursor }
  }
}"""
ADJUST = """
mutation ($input: InventoryAdjustInput!) {
  inventoryAdjust(input: $input) { inventoryLevels { onHand } userErrors { code } }
}"""


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def gid(type_name: str, key: int | str) -> str:
    """A global id as the contract defines it: base64 of `Type:key`."""
    return b64(f"{type_name}:{key}")


def cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


async def refused(api, query: str, variables: dict | None = None, *, code: str) -> dict:
    """Post a request that must fail with `code` alone; return the body for more checks."""
    response = await api.post(query, variables)
    assert response.status_code == 200, response.text
    assert "Traceback" not in response.text
    body = response.json()
    assert body.get("errors"), body
    codes = [error.get("extensions", {}).get("code") for error in body["errors"]]
    assert codes == [code] * len(codes), body["errors"]
    assert all(error["message"] for error in body["errors"])
    return body


async def product_cursor(api, **args) -> str:
    body = await api.data(PRODUCTS, {"first": 2, **args})
    return body["products"]["pageInfo"]["endCursor"]


async def location_cursor(api, **args) -> str:
    body = await api.data(LOCATIONS, {"first": 2, **args})
    return body["locations"]["pageInfo"]["endCursor"]


# --- ids ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad_id",
    [
        pytest.param("not base64!", id="not-base64"),
        pytest.param(base64.b64encode(b"\xff\xfe\x00garbage").decode(), id="base64-of-garbage"),
        pytest.param(b64("Product"), id="no-separator"),
        pytest.param(b64("Product:"), id="missing-key"),
        pytest.param(b64("Product:abc"), id="non-numeric-key"),
        pytest.param(b64("Product:007"), id="non-canonical-key"),
        pytest.param(b64("Product:1") + "==", id="stray-padding"),
    ],
)
async def test_a_malformed_id_is_bad_user_input(api, bad_id):
    body = await refused(api, PRODUCT_BY_ID, {"id": bad_id}, code="BAD_USER_INPUT")
    assert body["data"] == {"product": None}
    await refused(api, NODE, {"id": bad_id}, code="BAD_USER_INPUT")


async def test_a_foreign_id_is_bad_user_input(api):
    body = await refused(api, PRODUCT_BY_ID, {"id": gid("Location", 1)}, code="BAD_USER_INPUT")
    assert body["data"] == {"product": None}
    query = "query ($id: ID!) { location(id: $id) { id } }"
    await refused(api, query, {"id": gid("Product", 1)}, code="BAD_USER_INPUT")
    query = """query ($ids: [ID!]) {
      products(first: 1, availableAt: $ids) { edges { node { id } } }
    }"""
    await refused(api, query, {"ids": [gid("Product", 1)]}, code="BAD_USER_INPUT")


async def test_an_unknown_type_in_node_is_bad_user_input(api):
    await refused(api, NODE, {"id": gid("Spaceship", 1)}, code="BAD_USER_INPUT")
    query = "query ($ids: [ID!]!) { nodes(ids: $ids) { id } }"
    ids = [gid("Product", 1), gid("Spaceship", 1)]
    await refused(api, query, {"ids": ids}, code="BAD_USER_INPUT")


@pytest.mark.parametrize("key", ["2147483648", "99999999999999999999"])
async def test_an_id_beyond_any_row_is_not_an_internal_error(api, key):
    # Well formed, canonical, and larger than the id column holds: no such row can exist.
    for query, value in (
        (NODE, gid("Product", key)),
        (PRODUCT_BY_ID, gid("Product", key)),
        ("query ($id: ID!) { location(id: $id) { id } }", gid("Location", key)),
    ):
        body = await api.gql(query, {"id": value})
        codes = [error.get("extensions", {}).get("code") for error in body.get("errors", [])]
        assert set(codes) <= {"BAD_USER_INPUT", "NOT_FOUND"}, body
        assert list(body["data"].values()) == [None]


async def test_an_unknown_handle_is_not_found(api):
    query = 'query { product(handle: "no-such") { id } }'
    body = await refused(api, query, code="NOT_FOUND")
    assert body["data"] == {"product": None}


async def test_an_unknown_product_id_is_not_found(api):
    body = await refused(api, PRODUCT_BY_ID, {"id": gid("Product", 99999)}, code="NOT_FOUND")
    assert body["data"] == {"product": None}


async def test_product_needs_exactly_one_of_id_and_handle(api):
    both = 'query ($id: ID!) { product(id: $id, handle: "x") { id } }'
    body = await refused(api, both, {"id": gid("Product", 1)}, code="BAD_USER_INPUT")
    assert body["data"] == {"product": None}
    body = await refused(api, "{ product { id } }", code="BAD_USER_INPUT")
    assert body["data"] == {"product": None}


# --- cursors and page sizes --------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad_cursor",
    [
        pytest.param("%%%", id="not-base64"),
        pytest.param(cursor("not json"), id="not-json"),
        pytest.param(cursor('{"a": 1}'), id="json-object"),
        pytest.param(cursor('["ID", 1]'), id="too-short"),
        pytest.param(cursor('["ID", "1", 1]'), id="string-id"),
        pytest.param(cursor('["ID", 1, "1"]'), id="string-key"),
        pytest.param(cursor('["ID", 1.5, 1]'), id="float-id"),
        pytest.param(cursor('["ID", 100000000000000000000000, 1]'), id="huge-number"),
    ],
)
async def test_a_malformed_cursor_is_bad_user_input(api, bad_cursor):
    await refused(api, PRODUCTS, {"first": 2, "after": bad_cursor}, code="BAD_USER_INPUT")
    await refused(api, PRODUCTS, {"last": 2, "before": bad_cursor}, code="BAD_USER_INPUT")


async def test_a_cursor_of_another_ordering_is_bad_user_input(api):
    by_title = await product_cursor(api, sortKey="TITLE")
    by_id = await product_cursor(api)
    await refused(api, PRODUCTS, {"first": 2, "after": by_title}, code="BAD_USER_INPUT")
    await refused(api, PRODUCTS, {"first": 2, "after": by_id, "sortKey": "TITLE"}, code="BAD_USER_INPUT")
    await refused(api, PRODUCTS, {"first": 2, "after": by_id, "sortKey": "CREATED_AT"}, code="BAD_USER_INPUT")


async def test_a_distance_cursor_of_locations_is_refused_by_products(api):
    near = {"latitude": 47.6062, "longitude": -122.3321}
    location = await location_cursor(api, near=near)
    await refused(api, PRODUCTS, {"first": 2, "after": location}, code="BAD_USER_INPUT")


async def test_a_location_cursor_is_refused_by_products(api):
    location = await location_cursor(api)
    await refused(api, PRODUCTS, {"first": 2, "after": location}, code="BAD_USER_INPUT")


async def test_a_product_cursor_is_refused_by_locations(api):
    product = await product_cursor(api)
    await refused(api, LOCATIONS, {"first": 2, "after": product}, code="BAD_USER_INPUT")


@pytest.mark.parametrize(
    "page",
    [
        pytest.param({"first": 1000}, id="first-1000"),
        pytest.param({"first": 251}, id="first-251"),
        pytest.param({"first": -1}, id="first-negative"),
        pytest.param({"last": 251}, id="last-251"),
        pytest.param({"last": -5}, id="last-negative"),
        pytest.param({"first": 2, "last": 2}, id="first-and-last"),
    ],
)
async def test_a_page_size_out_of_bounds_is_bad_user_input(api, page):
    body = await refused(api, PRODUCTS, page, code="BAD_USER_INPUT")
    assert body["data"] is None
    await refused(api, LOCATIONS, page, code="BAD_USER_INPUT")


async def test_the_largest_page_is_allowed(api):
    body = await api.data(PRODUCTS, {"first": 250})
    assert len(body["products"]["edges"]) == 200
    body = await api.data(PRODUCTS, {"last": 250})
    assert len(body["products"]["edges"]) == 200


# --- geography ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "geo",
    [
        pytest.param({"near": {"latitude": 47.6, "longitude": -122.3}, "radiusKm": -1}, id="radius"),
        pytest.param({"near": {"latitude": 91, "longitude": -122.3}}, id="latitude-91"),
        pytest.param({"near": {"latitude": -90.5, "longitude": 0}}, id="latitude-minus-90.5"),
        pytest.param({"near": {"latitude": 47.6, "longitude": -181}}, id="longitude-minus-181"),
        pytest.param({"near": {"latitude": 47.6, "longitude": 180.5}}, id="longitude-180.5"),
    ],
)
async def test_bad_coordinates_are_bad_user_input(api, geo):
    body = await refused(api, LOCATIONS, geo, code="BAD_USER_INPUT")
    assert body["data"] is None
    availability = """query ($id: ID!, $near: GeoPointInput!, $radiusKm: Float) {
      node(id: $id) { ... on ProductVariant {
        storeAvailability(near: $near, radiusKm: $radiusKm) { available }
      } }
    }"""
    variables = {"id": gid("ProductVariant", 1), **geo}
    await refused(api, availability, variables, code="BAD_USER_INPUT")


async def test_the_edges_of_the_globe_are_allowed(api):
    for latitude, longitude in ((90, 180), (-90, -180)):
        near = {"latitude": latitude, "longitude": longitude}
        body = await api.data(LOCATIONS, {"near": near, "radiusKm": 20100.0})
        assert len(body["locations"]["edges"]) == 12  # every demo location, both markets


# --- search text -------------------------------------------------------------------------------


async def test_a_query_over_200_characters_is_bad_user_input(api):
    long = "a" * 201
    body = await refused(api, PRODUCTS, {"query": long}, code="BAD_USER_INPUT")
    assert body["data"] is None
    at_limit = "a" * 200
    assert (await api.data(PRODUCTS, {"query": at_limit}))["products"]["edges"] == []


# --- documents and variables -------------------------------------------------------------------


async def test_a_syntax_error_is_bad_user_input(api):
    await refused(api, "{ products(first: 2 { edges { node { id } } }", code="BAD_USER_INPUT")


async def test_an_unknown_field_is_bad_user_input(api):
    body = await refused(api, "{ products { edges { node { id price } } } }", code="BAD_USER_INPUT")
    assert "price" in body["errors"][0]["message"]


async def test_an_unknown_argument_is_bad_user_input(api):
    await refused(api, "{ products(size: 2) { edges { node { id } } } }", code="BAD_USER_INPUT")


async def test_an_int_literal_out_of_range_is_bad_user_input(api):
    await refused(api, "{ products(first: 99999999999) { nodes { id } } }", code="BAD_USER_INPUT")


async def test_a_variable_of_the_wrong_type_is_bad_user_input(api):
    await refused(api, PRODUCTS, {"first": "ten"}, code="BAD_USER_INPUT")


async def test_a_missing_required_variable_is_bad_user_input(api):
    await refused(api, NODE, {}, code="BAD_USER_INPUT")


# --- authentication ----------------------------------------------------------------------------


def adjustment() -> dict:
    change = {
        "variantId": gid("ProductVariant", 1),
        "locationId": gid("Location", 1),
        "delta": 1,
    }
    return {"input": {"reason": "RECEIPT", "changes": [change]}}


async def test_an_anonymous_adjustment_is_unauthenticated(api):
    body = await refused(api, ADJUST, adjustment(), code="UNAUTHENTICATED")
    assert body["data"] is None


async def test_a_wrong_bearer_token_is_401_unauthenticated(api):
    for authorization in ("Bearer not-the-token", "Basic dXNlcjpwYXNz", "Bearer "):
        response = await api.post(ADJUST, adjustment(), Authorization=authorization)
        assert response.status_code == 401, authorization
        assert "Traceback" not in response.text
        body = response.json()
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert body["errors"][0]["message"]
    # The same token is refused on a read too: bad credentials are never ignored.
    response = await api.post("{ categories }", Authorization="Bearer not-the-token")
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_the_integration_token_may_adjust(api):
    body = await api.data(ADJUST, adjustment(), **api.as_integration())
    assert body["inventoryAdjust"]["userErrors"] == []


# --- unexpected failures and request ids -------------------------------------------------------


async def test_an_unexpected_exception_is_internal_and_quotes_the_request_id(api, monkeypatch):
    async def broken(ctx):
        raise RuntimeError("connection to db-primary.internal:5432 refused (password=hunter2)")

    monkeypatch.setattr(resolvers.catalog, "categories", broken)
    response = await api.post("{ categories }")
    assert response.status_code == 200
    assert "Traceback" not in response.text
    assert "hunter2" not in response.text
    assert "db-primary" not in response.text
    assert "RuntimeError" not in response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "INTERNAL"
    request_id = response.headers["x-request-id"]
    assert request_id
    assert request_id in error["message"]
    assert error["extensions"].get("requestId", request_id) == request_id


async def test_an_internal_error_quotes_the_callers_request_id(api, monkeypatch):
    async def broken(ctx):
        raise KeyError("secret-internal-key")

    monkeypatch.setattr(resolvers.catalog, "categories", broken)
    request_id = "checkout-7f3a9c21"
    response = await api.post("{ categories }", **{"X-Request-Id": request_id})
    assert response.headers["x-request-id"] == request_id
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "INTERNAL"
    assert request_id in error["message"]
    assert "secret-internal-key" not in response.text


async def test_a_request_id_from_the_client_is_echoed(api):
    request_id = "web-0123456789abcdef"
    response = await api.post("{ categories }", **{"X-Request-Id": request_id})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == request_id
    response = await api.post("{ nope }", **{"X-Request-Id": request_id})
    assert response.headers["x-request-id"] == request_id


async def test_each_request_gets_its_own_request_id(api):
    first = (await api.post("{ categories }")).headers["x-request-id"]
    second = (await api.post("{ categories }")).headers["x-request-id"]
    assert first and second and first != second


async def test_an_unsafe_request_id_is_replaced(api):
    unsafe = "evil id\twith spaces"
    response = await api.post("{ categories }", **{"X-Request-Id": unsafe})
    echoed = response.headers["x-request-id"]
    assert echoed and echoed != unsafe
    assert all(ch.isalnum() or ch in "._-" for ch in echoed)
