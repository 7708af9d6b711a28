"""Protocol conformance: the npm graphql-ws client completes a subscription against the gateway."""

import asyncio
import json
from asyncio.subprocess import PIPE
from pathlib import Path

from tests.commerce import SEATTLE, location_id, variant_id
from tests.conftest import INTEGRATION_TOKEN, SqliteTemplates
from tests.served import serve
from tests.servers import JS, need, need_node_tools


async def test_the_graphql_ws_client_completes_a_subscription(
    tmp_path: Path, sqlite_templates: SqliteTemplates
):
    need_node_tools()
    need((JS / "node_modules" / "graphql-ws").is_dir(), "run `npm ci --prefix tests/js` (graphql-ws)")
    async with serve(tmp_path, await sqlite_templates.clone()) as gateway:
        args = [gateway.base, INTEGRATION_TOKEN, variant_id(1), location_id(SEATTLE)]
        node = await asyncio.create_subprocess_exec(
            "node", "subscribe.mjs", *args, cwd=JS, stdout=PIPE, stderr=PIPE
        )
        out, err = await asyncio.wait_for(node.communicate(), 60)
        assert node.returncode == 0, err.decode()
        pushed = json.loads(out)
        assert pushed["data"] == {
            "stockChanged": {
                "onHand": 42,
                "location": {"id": location_id(SEATTLE)},
                "variant": {"id": variant_id(1)},
            }
        }
        assert await gateway.metric("omnigate_active_subscriptions") == 0
