"""GraphQL over HTTP as the spec and browsers need it: media types, status codes, GET for queries
only, CSRF prevention, CORS, and introspection by caller."""

import pytest

from tests.helpers import PARTNER_KEY, PARTNERS, PLAIN_PARTNER_KEY, bearer, gateway

SPEC = "application/graphql-response+json"
TITLES = "{ products(first: 2) { nodes { title } } }"
INTROSPECTION = "{ __schema { queryType { name } } }"


async def test_both_media_types_on_both_paths(api):
    for headers in ({"Accept": SPEC}, {"Accept": "application/json"}, {}):
        post = await api.client.post("/graphql", json={"query": TITLES}, headers=headers)
        get = await api.client.get("/graphql", params={"query": TITLES}, headers=headers)
        expected = SPEC if headers.get("Accept") == SPEC else "application/json"
        for response in (post, get):
            assert response.status_code == 200
            assert response.headers["content-type"].startswith(expected)
        assert post.json() == get.json()


@pytest.mark.parametrize(
    "body",
    [
        {"query": "{ noSuchField }"},  # validation
        {"query": "{ products(first: 1) { "},  # parsing
        {"query": "query ($id: ID!) { node(id: $id) { id } }", "variables": {"id": None}},  # coercion
    ],
)
async def test_request_errors_have_no_data_and_are_400_only_for_the_spec_media_type(api, body):
    spec = await api.client.post("/graphql", json=body, headers={"Accept": SPEC})
    plain = await api.client.post("/graphql", json=body)
    assert (spec.status_code, plain.status_code) == (400, 200)
    for response in (spec, plain):
        assert "data" not in response.json()
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_field_error_keeps_its_data_and_status_200(api):
    response = await api.client.post(
        "/graphql", json={"query": '{ product(id: "bad") { id } }'}, headers={"Accept": SPEC}
    )
    assert response.status_code == 200
    assert response.json()["data"] == {"product": None}


async def test_mutations_over_get_are_405(api):
    mutation = "mutation { inventoryAdjust(input: {reason: RECEIPT, changes: []}) { userErrors { code } } }"
    response = await api.client.get("/graphql", params={"query": mutation}, headers=api.as_integration())
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
async def test_a_post_that_a_cross_site_form_could_send_is_refused(api, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    before = api.store.statements
    response = await api.client.post("/graphql", content=b'{"query": "{ categories }"}', headers=headers)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert api.store.statements == before


async def test_a_preflight_header_lets_other_content_types_reach_the_view(api):
    headers = {"Content-Type": "text/plain", "GraphQL-Require-Preflight": "1"}
    response = await api.client.post("/graphql", content=b'{"query": "{ categories }"}', headers=headers)
    assert response.status_code == 400  # strawberry's own answer: not a content type it reads
    assert "content type" in response.json()["errors"][0]["message"].lower()


async def test_cors_allows_only_the_configured_origins(database_url):
    async with gateway(database_url, cors_origins=["https://shop.example"]) as api:
        preflight = {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        }
        ok = await api.client.options("/graphql", headers={"Origin": "https://shop.example", **preflight})
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == "https://shop.example"
        bad = await api.client.options("/graphql", headers={"Origin": "https://evil.example", **preflight})
        assert bad.status_code == 400
        post = await api.client.post(
            "/graphql", json={"query": TITLES}, headers={"Origin": "https://shop.example"}
        )
        assert post.headers["access-control-allow-origin"] == "https://shop.example"
        assert "x-request-id" in post.headers["access-control-expose-headers"]


async def test_introspection_is_closed_to_anonymous_callers_in_production(database_url):
    async with gateway(database_url, partner_keys=PARTNERS) as api:
        anonymous = (await api.post(INTROSPECTION)).json()
        assert anonymous["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert "data" not in anonymous
        spec = await api.client.post("/graphql", json={"query": INTROSPECTION}, headers={"Accept": SPEC})
        assert spec.status_code == 403
        plain = (await api.post(INTROSPECTION, **bearer(PLAIN_PARTNER_KEY))).json()
        assert plain["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        for headers in (bearer(PARTNER_KEY), api.as_integration()):
            assert (await api.data(INTROSPECTION, **headers))["__schema"]["queryType"]["name"] == "Query"
        assert (await api.data("{ __typename }"))["__typename"] == "Query"  # not introspection


async def test_introspection_is_open_in_dev_mode(database_url):
    async with gateway(database_url, dev=True) as api:
        assert (await api.data(INTROSPECTION))["__schema"]["queryType"]["name"] == "Query"


def test_dev_mode_defaults_to_the_embedded_database():
    from gateway.settings import Settings

    assert Settings(database_url=None).dev_mode is True
    assert Settings(database_url="postgresql+asyncpg://db/x").dev_mode is False
    assert Settings(database_url=None, dev=False).dev_mode is False


async def test_an_unknown_bearer_key_is_401(database_url):
    async with gateway(database_url, partner_keys=PARTNERS) as api:
        response = await api.post(TITLES, **bearer("not-a-key"))
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
