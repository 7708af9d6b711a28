"""`extensions.warnings` on every response while some read model may be stale.

Queries are answered from the gateway's read model whatever the upstreams do; this tells the
client which data may be behind, and since when. No resolver is involved.
"""

from __future__ import annotations

from typing import Any

from strawberry.extensions import SchemaExtension

from gateway.upstreams.freshness import Freshness


class UpstreamWarnings(SchemaExtension):
    def __init__(self, *, freshness: Freshness, execution_context: Any = None) -> None:
        super().__init__(execution_context=execution_context)
        self.freshness = freshness

    def get_results(self) -> dict[str, Any]:
        warnings = self.freshness.warnings()
        return {"warnings": warnings} if warnings else {}
