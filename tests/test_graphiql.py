"""GraphiQL from the gateway itself: offline, under a strict CSP, and a clear page without its files."""

import json
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway import graphiql
from tests.conftest import Api, make_settings
from tests.conftest import serving as serving_app
from tests.servers import JS, need, need_node_tools, serving

QUERY = "{ products(first: 2) { nodes { title handle } } }"


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    """A production gateway whose operator turned GraphiQL on (it is off there by default)."""
    async with serving_app(make_settings(database_url, graphiql=True)) as api:
        yield api


async def test_the_page_has_a_strict_csp_with_a_fresh_nonce(api):
    pages = [await api.client.get("/graphql", headers={"Accept": "text/html"}) for _ in range(2)]
    if not graphiql.installed():
        pytest.skip("GraphiQL's files are not built: npm ci --prefix gateway/graphiql")
    nonces = []
    for page in pages:
        assert page.status_code == 200
        policy = page.headers["content-security-policy"]
        nonce = re.search(r'name="csp-nonce" content="([^"]+)"', page.text).group(1)
        assert f"style-src 'self' 'nonce-{nonce}'" in policy
        assert "script-src 'self';" in policy and "default-src 'none'" in policy
        assert "connect-src 'self' ws://gateway.test" in policy
        assert "<script>" not in page.text and "style=" not in page.text  # nothing inline
        nonces.append(nonce)
    assert nonces[0] != nonces[1]
    script = await api.client.get(f"{graphiql.ASSETS_PATH}/graphiql.js")
    assert script.status_code == 200 and "createFetcher" in script.text
    assert (await api.client.get(f"{graphiql.ASSETS_PATH}/../__init__.py")).status_code == 404


async def test_without_its_files_the_page_says_how_to_get_them(api, monkeypatch, tmp_path):
    monkeypatch.setattr(graphiql, "DIST", tmp_path)
    page = await api.client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "npm ci --prefix gateway/graphiql" in page.text
    assert (await api.post("{ categories }")).status_code == 200  # the API itself is unaffected


def test_a_browser_reads_the_docs_completes_a_field_and_runs_a_query_offline_with_no_csp_violation(tmp_path):
    need_node_tools()
    need(Path("/usr/bin/chromium").exists(), "Debian's chromium is not installed (apt-get install chromium)")
    need(graphiql.installed(), "GraphiQL's files are not built: npm ci --prefix gateway/graphiql")
    need(shutil.which("node") is not None, "Node.js is not installed")
    with serving(tmp_path / "data") as base:
        out = subprocess.run(
            ["node", str(JS / "graphiql.mjs"), base, QUERY, str(tmp_path / "graphiql.png")],
            capture_output=True, text=True, timeout=180,
        )  # fmt: skip
    assert out.returncode == 0, out.stderr
    outcome = json.loads(out.stdout)
    assert outcome["errors"] == []
    assert outcome["violations"] == []
    assert outcome["foreign"] == []
    result = json.loads(outcome["result"])
    assert len(result["data"]["products"]["nodes"]) == 2
    assert result["extensions"]["cost"]["requested"] == 3
    assert any('"Authorization"' in text for text in outcome["headers"])  # the headers editor is open
    # The documentation pane has the schema (GraphiQL's own introspection query, graphql-js's
    # standard one, passed) and lists Query.products; typing `{ prod` offers `products`.
    assert "Error fetching schema" not in outcome["docs"]
    assert "products" in outcome["queryFields"]
    assert "fragment TypeRef on __Type" in outcome["introspection"]  # the query GraphiQL really sent
    assert any(hint.startswith("products") for hint in outcome["hints"]), outcome["hints"]
