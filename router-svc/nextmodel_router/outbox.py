"""The settlement outbox: every served request's usage is written here first, on disk, and
delivered to billing in batches by a background task.

Writing locally keeps billing's transaction off the response path, and keeps usage safe when
billing is unreachable: nothing leaves the outbox before billing has acknowledged it, and
settling is idempotent by request id in billing, so a settlement delivered twice is counted
once. Appends are group-committed: whatever arrives while one write runs goes into the next,
so a busy router pays one SQLite transaction (WAL, no fsync per commit) for many requests.

The file lives at NEXTMODEL_ROUTER_OUTBOX_PATH; on Kubernetes a volume that survives container
restarts. A router that starts finds what an earlier run left and delivers it.

Open streams: when a stream starts, the router also records what it would settle if it died
now (status `interrupted`, usage estimated so far), refreshed every few seconds while the stream
runs. The stream's real settlement deletes that record in the same transaction. A router that
starts and finds such records (its previous process was killed mid-stream) moves them into the
outbox, so the usage of a crashed router's streams is billed (once: billing settles by request
id). Only the router holding the file's lock does that, so a second process pointed at the same
file by mistake never settles the streams of a live one.

Set aside: a row that can never be delivered (its payload cannot be read, or billing refuses it
alone while it takes the others) moves to the `set_aside` table with the reason, so it does not
hold back the rows behind it; it stays on disk for an operator. Billing keeps settlements it
refuses for good as dead letters and acknowledges them, so with a current billing only a
damaged file or a contract mismatch puts rows here.

Readiness: `writable()` says whether a settlement appended now would reach the file, from the
last group commit or, when the router was idle, a one-row probe write; the router's health
follows it (nextmodel_router.readiness).
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import sqlite3
import time
from collections import deque
from pathlib import Path

log = logging.getLogger(__name__)

SETTLE, OPEN = "settle", "open"
# How long `writable()` trusts its last answer: yes for this long, no for a shorter while.
WRITABLE_CHECK_SECONDS = 2.0
UNWRITABLE_RECHECK_SECONDS = 0.5


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
        self._db.execute("CREATE TABLE IF NOT EXISTS open_streams (request_id TEXT PRIMARY KEY, payload BLOB NOT NULL)")
        self._db.execute("CREATE TABLE IF NOT EXISTS set_aside (seq INTEGER PRIMARY KEY, request_id TEXT NOT NULL, "
                         "payload BLOB NOT NULL, reason TEXT NOT NULL, unix_ms INTEGER NOT NULL)")
        # One row, rewritten by the readiness probe when nothing else wrote for a while.
        self._db.execute("CREATE TABLE IF NOT EXISTS probe (id INTEGER PRIMARY KEY CHECK (id = 1), at REAL NOT NULL)")
        self._file = _identity(os.stat(path))
        self._lock = open(path.with_name(path.name + ".lock"), "a+b")  # noqa: SIM115 - held for the process's life
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self.owner = True
        except BlockingIOError:
            self.owner = False
            log.warning("another router process uses this outbox file; its open streams are left to it",
                        extra={"fields": {"path": str(path)}})
        self.recovered = self._settle_open_streams() if self.owner else 0
        # What waits for delivery, oldest first; loaded from disk at start.
        self._ready: deque[tuple[int, bytes]] = deque(
            (seq, bytes(payload)) for seq, payload in self._db.execute("SELECT seq, payload FROM outbox ORDER BY seq"))
        self._writes: list[tuple[str, str, bytes, asyncio.Future]] = []
        self._writer: asyncio.Task | None = None
        self._db_lock = asyncio.Lock()
        # writable(): its last answer, when it was found, and whether a group commit succeeded since.
        self._writable, self._checked_at, self._committed = True, float("-inf"), False
        self._checking: asyncio.Task | None = None

    def _settle_open_streams(self) -> int:
        """The streams a killed predecessor left open become settlements (their `interrupted` records)."""
        with self._db:
            self._db.execute("BEGIN")
            moved = self._db.execute("INSERT INTO outbox (request_id, payload) "
                                     "SELECT request_id, payload FROM open_streams ORDER BY rowid").rowcount
            self._db.execute("DELETE FROM open_streams")
        if moved:
            log.warning("settling streams a previous router process left open", extra={"fields": {"streams": moved}})
        return moved

    def pending(self) -> int:
        return len(self._ready) + sum(1 for write in self._writes if write[0] == SETTLE)

    async def append(self, request_id: str, payload: bytes) -> None:
        """Returns once the settlement is on disk (and the request's open-stream record is gone)."""
        await self._enqueue(SETTLE, request_id, payload)

    def stream_open(self, request_id: str, payload: bytes) -> None:
        """Record (or refresh) what an open stream would settle if this process died; written with
        the next group of writes, in order with the stream's own settlement."""
        self._enqueue(OPEN, request_id, payload).add_done_callback(_ignore_failure)

    def _enqueue(self, kind: str, request_id: str, payload: bytes) -> asyncio.Future:
        done = asyncio.get_running_loop().create_future()
        self._writes.append((kind, request_id, payload, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        return done

    def _insert(self, batch: list[tuple[str, str, bytes]]) -> list[int | None]:
        seqs: list[int | None] = []
        with self._db:
            self._db.execute("BEGIN")
            for kind, request_id, payload in batch:
                if kind == OPEN:
                    self._db.execute("INSERT OR REPLACE INTO open_streams (request_id, payload) VALUES (?, ?)",
                                     (request_id, payload))
                    seqs.append(None)
                else:
                    seqs.append(self._db.execute("INSERT INTO outbox (request_id, payload) VALUES (?, ?)",
                                                 (request_id, payload)).lastrowid)
                    self._db.execute("DELETE FROM open_streams WHERE request_id = ?", (request_id,))
        return seqs

    async def _write(self) -> None:
        while self._writes:
            batch, self._writes = self._writes, []
            try:
                async with self._db_lock:
                    seqs = await asyncio.to_thread(self._insert, [write[:3] for write in batch])
            except Exception as failure:  # the disk is gone: every appender hears it
                self._checked_at, self._committed = float("-inf"), False  # the next writable() probes
                for *_, done in batch:
                    if not done.done():
                        done.set_exception(failure)
                continue
            self._committed = True
            for seq, (_, _, payload, done) in zip(seqs, batch, strict=True):
                if seq is not None:
                    self._ready.append((seq, payload))
                if not done.done():
                    done.set_result(None)

    def take(self, limit: int) -> list[tuple[int, bytes]]:
        return [self._ready[i] for i in range(min(limit, len(self._ready)))]

    async def remove(self, seqs: list[int]) -> None:
        """Billing acknowledged these: forget them."""
        self._forget(seqs)
        async with self._db_lock:
            await asyncio.to_thread(self._db.executemany, "DELETE FROM outbox WHERE seq = ?", [(s,) for s in seqs])

    async def set_aside(self, seqs: list[int], reason: str) -> None:
        """These can never be delivered: keep them (with `reason`) out of the way of the rest."""
        self._forget(seqs)
        async with self._db_lock:
            await asyncio.to_thread(self._move_aside, seqs, reason)
        log.error("settlements set aside in the outbox; they are kept for an operator",
                  extra={"fields": {"count": len(seqs), "reason": reason, "path": str(self.path)}})

    def _move_aside(self, seqs: list[int], reason: str) -> None:
        with self._db:
            self._db.execute("BEGIN")
            for seq in seqs:
                self._db.execute("INSERT OR REPLACE INTO set_aside (seq, request_id, payload, reason, unix_ms) "
                                 "SELECT seq, request_id, payload, ?, ? FROM outbox WHERE seq = ?",
                                 (reason, int(time.time() * 1000), seq))
                self._db.execute("DELETE FROM outbox WHERE seq = ?", (seq,))

    def set_aside_count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM set_aside").fetchone()[0]

    def _forget(self, seqs: list[int]) -> None:
        gone = set(seqs)
        while self._ready and self._ready[0][0] in gone:
            gone.discard(self._ready.popleft()[0])
        if gone:  # not a prefix (rows delivered one by one): rebuild the queue without them
            self._ready = deque(row for row in self._ready if row[0] not in gone)

    async def drain_writes(self) -> None:
        if self._writer is not None:
            await self._writer

    async def writable(self) -> bool:
        """Whether a settlement appended now would reach the outbox file: the connection is open,
        the file at `path` is still the one it writes (not deleted or replaced under it), and it
        took a write since the last check (a group commit, else a probe write of one row).

        Cheap enough to ask every second: the answer is kept for WRITABLE_CHECK_SECONDS
        (UNWRITABLE_RECHECK_SECONDS when it is no); a check is one stat, and one small write only
        when the router wrote nothing meanwhile, in a thread; concurrent callers share it."""
        kept = WRITABLE_CHECK_SECONDS if self._writable else UNWRITABLE_RECHECK_SECONDS
        if time.monotonic() - self._checked_at < kept:
            return self._writable
        if self._checking is None or self._checking.done():
            # Shielded: a caller that gives up must not free the connection while the thread uses it.
            self._checking = asyncio.create_task(self._check_writable(), name="outbox-writable")
        return await asyncio.shield(self._checking)

    async def _check_writable(self) -> bool:
        async with self._db_lock:
            committed, self._committed = self._committed, False
            try:
                await asyncio.to_thread(self._probe, write=not committed)
                writable = True
            except (OSError, sqlite3.Error) as failure:
                if self._writable:
                    log.error("the outbox file cannot take settlements", extra={"fields": {
                        "path": str(self.path), "error": f"{type(failure).__name__}: {failure}"}})
                writable = False
        if writable and not self._writable:
            log.info("the outbox file takes settlements again", extra={"fields": {"path": str(self.path)}})
        self._writable, self._checked_at = writable, time.monotonic()
        return writable

    def _probe(self, write: bool) -> None:
        if _identity(os.stat(self.path)) != self._file:
            raise FileNotFoundError(f"{self.path} is no longer the file this outbox writes")
        if write:
            self._db.execute("INSERT OR REPLACE INTO probe (id, at) VALUES (1, ?)", (time.time(),))

    def open_streams(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM open_streams").fetchone()[0]

    def close(self) -> None:
        self._db.close()
        self._lock.close()  # releases the lock


def _identity(stat: os.stat_result) -> tuple[int, int]:
    return stat.st_dev, stat.st_ino


def _ignore_failure(done: asyncio.Future) -> None:
    # An open-stream record that could not be written only weakens the crash guarantee;
    # the stream's own settlement reports a broken disk loudly.
    if not done.cancelled():
        done.exception()
