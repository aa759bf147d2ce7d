"""The settlement outbox: usage that could not reach billing waits here, on disk, until it can.

A served request's usage is never dropped: if billing does not take a settlement at once,
it is written to this SQLite file (WAL, one fsync-free append) and a background task
delivers it in batches when billing answers again. Settling is idempotent by request id
in billing, so a settlement delivered twice is counted once.

The file lives in the router's data directory (`NEXTMODEL_ROUTER_OUTBOX_PATH`); on
Kubernetes that is a volume that survives container restarts, and a stopping router first
tries to deliver what is left.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

log = logging.getLogger(__name__)


class SettlementOutbox:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # One connection, used from one thread at a time through asyncio.to_thread.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
                         "request_id TEXT NOT NULL, payload BLOB NOT NULL)")
        self._lock = asyncio.Lock()
        self.waiting = asyncio.Event()
        if self._count() > 0:
            self.waiting.set()

    def _count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]

    async def pending(self) -> int:
        async with self._lock:
            return await asyncio.to_thread(self._count)

    async def append(self, request_id: str, payload: bytes) -> None:
        async with self._lock:
            await asyncio.to_thread(self._db.execute, "INSERT INTO outbox (request_id, payload) VALUES (?, ?)",
                                    (request_id, payload))
        self.waiting.set()

    async def take(self, limit: int) -> list[tuple[int, bytes]]:
        async with self._lock:
            rows = await asyncio.to_thread(
                lambda: self._db.execute("SELECT seq, payload FROM outbox ORDER BY seq LIMIT ?", (limit,)).fetchall())
        return [(seq, bytes(payload)) for seq, payload in rows]

    async def remove(self, seqs: list[int]) -> None:
        async with self._lock:
            await asyncio.to_thread(self._db.executemany, "DELETE FROM outbox WHERE seq = ?",
                                    [(seq,) for seq in seqs])
            if await asyncio.to_thread(self._count) == 0:
                self.waiting.clear()

    def close(self) -> None:
        self._db.close()
