"""Alembic migrations for billing's tables.

Billing runs `upgrade` at start; the Kubernetes migration Job runs
`python -m nextmodel_billing.store.migrate` before a rollout. On PostgreSQL an advisory
lock makes concurrent upgrades (several replicas starting at once) take turns.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version_billing"
_LOCK_ID = 0x6E6D_6269  # "nmbi"


def alembic_config(connection=None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
    command.upgrade(alembic_config(connection), "head")


async def upgrade(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)


async def _main() -> None:
    from nextmodel_billing.config import get_settings
    from nextmodel_common.db import make_engine

    engine = make_engine(get_settings().database_url)
    await upgrade(engine)
    await engine.dispose()
    print("billing schema is up to date")


if __name__ == "__main__":
    asyncio.run(_main())
