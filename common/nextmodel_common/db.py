"""The one way services open a SQL database: SQLite embedded, PostgreSQL in production."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from nextmodel_common import telemetry
from nextmodel_common.settings import sqlite_path

log = logging.getLogger(__name__)


def make_engine(url: str) -> AsyncEngine:
    """`hide_parameters`: a database error names the statement, never the values (a client's data)."""
    path = sqlite_path(url)
    if not url.startswith("sqlite"):
        engine = create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, hide_parameters=True)
        telemetry.instrument_sqlalchemy(engine)
        return engine
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

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


# Errors that mean "the database cannot be reached right now", as opposed to a bug: services answer
# them with UNAVAILABLE (nextmodel_common.interceptors.Errors).
STORAGE_ERRORS = (OperationalError, InterfaceError, ConnectionError, OSError, TimeoutError)
