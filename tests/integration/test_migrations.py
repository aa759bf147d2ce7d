"""Alembic migrations build exactly the schema the code declares (so a model change without a migration fails)."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from nextmodel_billing.store.migrate import VERSION_TABLE, upgrade
from nextmodel_billing.store.schema import metadata
from nextmodel_common.db import make_engine

pytestmark = pytest.mark.integration


async def test_billing_migrations_match_the_schema(database_url) -> None:
    engine = make_engine(database_url)
    await upgrade(engine)
    await upgrade(engine)  # a second run is a no-op

    def differences(connection):
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE, "compare_type": True})
        return compare_metadata(context, metadata)

    async with engine.connect() as conn:
        diff = await conn.run_sync(differences)
    await engine.dispose()
    assert diff == [], f"schema and migrations differ; add a migration: {diff}"
