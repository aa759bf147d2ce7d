"""Alembic for a service's own tables, shared by billing and catalog.

Each service keeps its own migrations folder, version table and PostgreSQL advisory lock, and
owns only the tables with its prefix, so both can share one database: neither records its version
in the other's table, waits on the other's lock, or (when Alembic compares the database with the
code) takes the other's tables for ones to drop.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine

from nextmodel_common.db import make_engine


@dataclass(frozen=True)
class Migrations:
    directory: Path  # the Alembic script location: env.py, script.py.mako, versions/
    version_table: str  # alembic_version_<service>
    lock_id: int  # pg_advisory_xact_lock key, one per service
    table_prefix: str  # "<service>_": the tables this service owns

    def config(self, connection=None) -> Config:
        """An Alembic config without alembic.ini; env.py runs on `connection`."""
        config = Config()
        config.set_main_option("script_location", str(self.directory))
        config.attributes["connection"] = connection
        return config

    def owns(self, name: str | None, type_: str, parent_names: dict) -> bool:
        """Alembic's include_name: only this service's tables are compared with its metadata."""
        return type_ != "table" or bool(name and name.startswith(self.table_prefix))

    def run_env(self, context, metadata: MetaData) -> None:
        """The body of the service's env.py: migrate the connection `upgrade` hands over."""
        context.configure(connection=context.config.attributes["connection"], target_metadata=metadata,
                          version_table=self.version_table, include_name=self.owns,
                          render_as_batch=True, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()

    def upgrade_sync(self, connection, revision: str = "head") -> None:
        # Replicas starting together (and the migration Job) take turns; the lock ends with the transaction.
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": self.lock_id})
        command.upgrade(self.config(connection), revision)

    async def upgrade(self, engine: AsyncEngine, revision: str = "head") -> None:
        async with engine.begin() as conn:
            await conn.run_sync(self.upgrade_sync, revision)

    async def upgrade_url(self, url: str) -> None:
        """`python -m nextmodel_<service>.store.migrate`: upgrade the database at `url`, then let go of it."""
        engine = make_engine(url)
        try:
            await self.upgrade(engine)
        finally:
            await engine.dispose()
