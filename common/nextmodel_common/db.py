"""The one way services open a SQL database: SQLite embedded, PostgreSQL in production."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from nextmodel_common import telemetry
from nextmodel_common.settings import sqlite_path


def make_engine(url: str) -> AsyncEngine:
    path = sqlite_path(url)
    if not url.startswith("sqlite"):
        engine = create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
        telemetry.instrument_sqlalchemy(engine)
        return engine
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(connection, _record) -> None:
        # WAL with synchronous=NORMAL: commits survive a process crash without an fsync
        # each (a power cut may lose the last moments). Foreign keys on, as on PostgreSQL.
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    telemetry.instrument_sqlalchemy(engine)
    return engine
