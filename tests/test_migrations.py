"""The Alembic migrations build exactly the tables the code declares, on every backend."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from adapters.store.tables import metadata


async def test_migrated_schema_matches_the_table_definitions(api):
    def diff(sync_conn):
        context = MigrationContext.configure(sync_conn)
        return compare_metadata(context, metadata)

    async with api.store.engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


async def test_migrating_twice_is_harmless(api):
    await api.store.migrate()
    data = await api.data("{ products(first: 1) { nodes { id } } }")
    assert len(data["products"]["nodes"]) == 1
