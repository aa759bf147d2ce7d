"""The settlement outbox keeps open streams' usage across a crash, and never settles twice."""

import asyncio
from pathlib import Path

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
