"""The settlement outbox keeps open streams' usage across a crash, and never settles twice."""

import asyncio
import sqlite3
from pathlib import Path

import pytest

from nextmodel_router.outbox import SettlementOutbox


def test_a_stream_left_open_by_a_killed_process_is_settled_by_the_next_one(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"

    async def first_process():
        outbox = SettlementOutbox(path)
        outbox.stream_open("req_open", b"interrupted estimate, first")
        outbox.stream_open("req_open", b"interrupted estimate, refreshed")  # the later checkpoint wins
        outbox.stream_open("req_done", b"interrupted estimate")
        await outbox.append("req_done", b"the real settlement")  # the stream ended: its record goes
        await outbox.drain_writes()
        assert outbox.open_streams() == 1
        return outbox  # never closed: a SIGKILL'd process does not close its file either

    killed = asyncio.run(first_process())
    killed._lock.close()  # the kernel drops a dead process's lock

    restarted = SettlementOutbox(path)
    try:
        assert restarted.recovered == 1 and restarted.open_streams() == 0
        assert [payload for _, payload in restarted.take(10)] == [b"the real settlement",
                                                                   b"interrupted estimate, refreshed"]
    finally:
        restarted.close()
        killed._db.close()


def test_a_second_process_on_the_same_file_leaves_the_live_ones_open_streams_alone(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"

    async def live_router():
        outbox = SettlementOutbox(path)
        outbox.stream_open("req_streaming", b"interrupted estimate")
        await outbox.drain_writes()
        return outbox

    live = asyncio.run(live_router())
    intruder = SettlementOutbox(path)
    try:
        assert live.owner and not intruder.owner
        assert intruder.recovered == 0 and intruder.take(10) == [] and live.open_streams() == 1
    finally:
        intruder.close()
        live.close()


def test_pending_counts_settlements_not_open_stream_records(tmp_path: Path) -> None:
    async def run():
        outbox = SettlementOutbox(tmp_path / "outbox.db")
        outbox.stream_open("req_a", b"estimate")
        waiting = asyncio.create_task(outbox.append("req_b", b"settlement"))
        await asyncio.sleep(0)
        assert outbox.pending() == 1
        await waiting
        await outbox.drain_writes()
        assert outbox.pending() == 1
        outbox.close()

    asyncio.run(run())


# -- writable(): what the router's readiness asks ---------------------------------------------------

def probe_writes(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT COUNT(*) FROM probe").fetchone()[0]
    finally:
        db.close()


def test_writable_probes_an_idle_outbox_and_keeps_its_answer_a_while(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"

    async def run():
        outbox = SettlementOutbox(path)
        try:
            assert probe_writes(path) == 0
            assert await outbox.writable()
            assert probe_writes(path) == 1, "nothing was written yet, so it wrote its one probe row"
            calls = []
            outbox._probe = lambda write: calls.append(write)
            assert await asyncio.gather(*(outbox.writable() for _ in range(5))) == [True] * 5
            assert calls == [], "a fresh answer is kept, not checked again"
            outbox._checked_at = float("-inf")  # as if WRITABLE_CHECK_SECONDS had passed
            await outbox.append("req_a", b"a settlement")
            assert await asyncio.gather(*(outbox.writable() for _ in range(5))) == [True] * 5
            assert calls == [False], "one check for all callers, and no probe write: a group commit proved it"
        finally:
            outbox.close()

    asyncio.run(run())


def test_an_outbox_whose_file_was_deleted_or_replaced_is_not_writable(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"

    async def run():
        outbox = SettlementOutbox(path)
        try:
            assert await outbox.writable()
            path.rename(tmp_path / "moved.db")  # writes would go on into a file nobody reads at the next start
            outbox._checked_at = float("-inf")
            assert not await outbox.writable()
            assert not await outbox.writable(), "the answer is kept for a moment"
            (tmp_path / "moved.db").rename(path)
            outbox._checked_at = float("-inf")  # as if UNWRITABLE_RECHECK_SECONDS had passed
            assert await outbox.writable(), "and it recovers once the file is back"
        finally:
            outbox.close()

    asyncio.run(run())


def test_a_failed_append_is_checked_at_once_and_a_closed_outbox_is_not_writable(tmp_path: Path) -> None:
    async def run():
        outbox = SettlementOutbox(tmp_path / "outbox.db")
        assert await outbox.writable()
        insert, probe, probes = outbox._insert, outbox._probe, []

        def full(batch):
            raise sqlite3.OperationalError("database or disk is full")

        outbox._insert = full
        with pytest.raises(sqlite3.OperationalError):
            await outbox.append("req_a", b"a settlement")
        outbox._insert = insert
        outbox._probe = lambda write: (probes.append(write), probe(write))
        assert await outbox.writable()
        assert probes == [True], "the kept yes was dropped: checked again at once, with a probe write"
        outbox.close()
        outbox._checked_at = float("-inf")
        assert not await outbox.writable()

    asyncio.run(run())


def test_the_router_is_ready_with_a_catalog_copy_and_an_outbox_that_takes_writes(tmp_path: Path) -> None:
    from nextmodel_router.readiness import RouterReadiness

    async def run():
        outbox = SettlementOutbox(tmp_path / "outbox.db")
        catalog_loaded = asyncio.Event()
        ready = RouterReadiness(catalog_loaded, outbox)
        try:
            assert not await ready()
            assert probe_writes(tmp_path / "outbox.db") == 0, "no catalog: the outbox is not even asked"
            catalog_loaded.set()
            assert await ready()
            (tmp_path / "outbox.db").unlink()
            outbox._checked_at = float("-inf")
            assert not await ready()
        finally:
            outbox.close()

    asyncio.run(run())
