"""The one way services open a SQL database: SQLite embedded, PostgreSQL in production."""

from __future__ import annotations

import logging
from pathlib import Path

import grpc
from sqlalchemy import event
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from nextmodel_common import telemetry
from nextmodel_common.errors import GatewayError
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


# Errors that mean "the database cannot be reached right now", as opposed to a bug.
STORAGE_ERRORS = (OperationalError, InterfaceError, ConnectionError, OSError, TimeoutError)


class StorageUnavailableInterceptor(grpc.aio.ServerInterceptor):
    """Turns a database that is down into UNAVAILABLE (a 503 the caller may retry), not UNKNOWN."""

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        inner = handler.unary_unary

        async def guarded(request, context):
            try:
                return await inner(request, context)
            except STORAGE_ERRORS as failure:
                log.warning("database unavailable", extra={"fields": {
                    "method": handler_call_details.method, "error": type(failure).__name__}})
                await GatewayError(503, "The database is unavailable. Retry shortly.", code="storage_unavailable",
                                   retry_after_seconds=1).abort(context)

        return grpc.unary_unary_rpc_method_handler(guarded, request_deserializer=handler.request_deserializer,
                                                   response_serializer=handler.response_serializer)
