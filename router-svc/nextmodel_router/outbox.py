"""The settlement outbox: every served request's usage is written here first, on disk, and
delivered to billing in batches by a background task.

Writing locally keeps billing's transaction off the response path, and keeps usage safe when
billing is unreachable: nothing leaves the outbox before billing has acknowledged it, and
settling is idempotent by request id in billing, so a settlement delivered twice is counted
once. Appends are group-committed: whatever arrives while one write runs goes into the next,
so a busy router pays one SQLite transaction (WAL, no fsync per commit) for many requests.

The file lives at NEXTMODEL_ROUTER_OUTBOX_PATH; on Kubernetes a volume that survives container
restarts. A router that starts finds what an earlier run left and delivers it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import deque
from pathlib import Path


class SettlementOutbox:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # One connection, used by one thread at a time (the writes are serialised below).
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
                         "request_id TEXT NOT NULL, payload BLOB NOT NULL)")
        # What waits for delivery, oldest first; loaded from disk at start.
        self._ready: deque[tuple[int, bytes]] = deque(
            (seq, bytes(payload)) for seq, payload in self._db.execute("SELECT seq, payload FROM outbox ORDER BY seq"))
        self._writes: list[tuple[str, bytes, asyncio.Future]] = []
        self._writer: asyncio.Task | None = None
        self._db_lock = asyncio.Lock()

    def pending(self) -> int:
        return len(self._ready) + len(self._writes)

    async def append(self, request_id: str, payload: bytes) -> None:
        """Returns once the settlement is on disk."""
        done = asyncio.get_running_loop().create_future()
        self._writes.append((request_id, payload, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        await done

    def _insert(self, batch: list[tuple[str, bytes]]) -> list[int]:
        with self._db:
            self._db.execute("BEGIN")
            return [self._db.execute("INSERT INTO outbox (request_id, payload) VALUES (?, ?)", row).lastrowid
                    for row in batch]

    async def _write(self) -> None:
        while self._writes:
            batch, self._writes = self._writes, []
            try:
                async with self._db_lock:
                    seqs = await asyncio.to_thread(self._insert, [(rid, payload) for rid, payload, _ in batch])
            except Exception as failure:  # the disk is gone: every appender hears it
                for _, _, done in batch:
                    if not done.done():
                        done.set_exception(failure)
                continue
            for seq, (_, payload, done) in zip(seqs, batch, strict=True):
                self._ready.append((seq, payload))
                if not done.done():
                    done.set_result(None)

    def take(self, limit: int) -> list[tuple[int, bytes]]:
        return [self._ready[i] for i in range(min(limit, len(self._ready)))]

    async def remove(self, seqs: list[int]) -> None:
        """Billing acknowledged these: forget them."""
        delivered = set(seqs)
        while self._ready and self._ready[0][0] in delivered:
            self._ready.popleft()
        async with self._db_lock:
            await asyncio.to_thread(self._db.executemany, "DELETE FROM outbox WHERE seq = ?", [(s,) for s in seqs])

    async def drain_writes(self) -> None:
        if self._writer is not None:
            await self._writer

    def close(self) -> None:
        self._db.close()
