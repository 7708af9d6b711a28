"""docs/security.md's authorization matrix names every root field, mutation and subscription of
the schema: a new one is not done until its row says who may call it."""

import re
from pathlib import Path

from graphql import build_schema

ROOT = Path(__file__).parent.parent


def test_the_authorization_matrix_names_every_operation_field():
    schema = build_schema((ROOT / "schema.graphql").read_text(encoding="utf-8"))
    doc = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    matrix = doc.split("## Authorization matrix", 1)[1].split("\n## ", 1)[0]
    named = {
        name
        for row in matrix.splitlines()
        if row.startswith("| `")
        for name in re.findall(r"`(\w+)", row.split("|")[1])
    }
    for root in (schema.query_type, schema.mutation_type, schema.subscription_type):
        assert root is not None
        missing = sorted(set(root.fields) - named)
        assert not missing, f"docs/security.md has no row for {root.name}: {missing}"
