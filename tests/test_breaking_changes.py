"""No breaking change against the last released schema (docs/released-schema.graphql, the
schema.graphql of the last release), judged by graphql-core's find_breaking_changes.

A deliberate break needs a deprecation period first (see ../shared/SCHEMA-CONTRACT.md); when a
release ships, copy schema.graphql over docs/released-schema.graphql."""

from pathlib import Path

from graphql import build_schema as from_sdl
from graphql import find_breaking_changes, find_dangerous_changes

from schema import build_schema, without_draft_locations

RELEASED = Path(__file__).parent.parent / "docs" / "released-schema.graphql"


def test_the_schema_keeps_everything_the_last_release_had():
    released = from_sdl(RELEASED.read_text())
    # The standard directives are graphql-core's, not the release's: @deprecated is served with
    # the released spec's locations (schema/__init__.py), so the release is read the same way.
    without_draft_locations(released)
    current = build_schema()._schema
    breaking = [f"{c.type.name}: {c.description}" for c in find_breaking_changes(released, current)]
    assert breaking == [], "\n".join(breaking)


def test_the_check_catches_a_removed_field():
    released = from_sdl(RELEASED.read_text())
    trimmed = from_sdl(RELEASED.read_text().replace("  vendor: String!\n", "", 1))
    assert [c.description for c in find_breaking_changes(released, trimmed)] == [
        "Field Product.vendor was removed."
    ]
    assert find_dangerous_changes(released, released) == []
