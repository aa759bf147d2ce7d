"""Alembic migrations for billing's tables.

Billing runs `upgrade` at start; the Kubernetes migration Job runs
`python -m nextmodel_billing.store.migrate` before a rollout. On PostgreSQL an advisory
lock makes concurrent upgrades (several replicas starting at once) take turns.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

from nextmodel_common.migrations import Migrations

MIGRATIONS = Migrations(
    directory=Path(__file__).with_name("migrations"),
    version_table="alembic_version_billing",
    lock_id=0x6E6D_6269,  # "nmbi"
    table_prefix="billing_",
)
VERSION_TABLE = MIGRATIONS.version_table


def alembic_config(connection=None) -> Config:
    return MIGRATIONS.config(connection)


async def upgrade(engine: AsyncEngine) -> None:
    await MIGRATIONS.upgrade(engine)


async def _main() -> None:
    from nextmodel_billing.config import get_settings

    await MIGRATIONS.upgrade_url(get_settings().database_url)
    print("billing schema is up to date")


if __name__ == "__main__":
    asyncio.run(_main())
