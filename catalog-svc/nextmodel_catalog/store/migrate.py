"""Alembic migrations for the catalog's tables.

The catalog runs `upgrade` at start; the Kubernetes migration Job runs
`python -m nextmodel_catalog.store.migrate` before a rollout. On PostgreSQL an advisory
lock (not billing's) makes concurrent upgrades (several replicas starting at once) take turns.

Before migrations the catalog created its tables at start (`create_all`). Such a database has
catalog tables and no version table; the first migration keeps the tables it finds and creates
the missing ones, so the database joins the migrations with its data (versions/0001).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

from nextmodel_common.migrations import Migrations

MIGRATIONS = Migrations(
    directory=Path(__file__).with_name("migrations"),
    version_table="alembic_version_catalog",
    lock_id=0x6E6D_6361,  # "nmca"
    table_prefix="catalog_",
)
VERSION_TABLE = MIGRATIONS.version_table


def alembic_config(connection=None) -> Config:
    return MIGRATIONS.config(connection)


async def upgrade(engine: AsyncEngine) -> None:
    await MIGRATIONS.upgrade(engine)


async def _main() -> None:
    from nextmodel_catalog.config import get_settings

    await MIGRATIONS.upgrade_url(get_settings().database_url)
    print("catalog schema is up to date")


if __name__ == "__main__":
    asyncio.run(_main())
