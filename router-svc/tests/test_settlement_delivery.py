"""One outbox row that cannot be delivered never holds back the rows behind it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest

from nextmodel.billing.v1 import billing_pb2
from nextmodel_router.clients import REFUSALS_BEFORE_SET_ASIDE, BillingClient
from nextmodel_router.outbox import SettlementOutbox


def failure(code: grpc.StatusCode) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=code.name)


class FakeBilling:
    """SettleBatch that refuses (as a whole) any batch holding a refused request id."""

    def __init__(self, refused: set[str] = frozenset(), code=grpc.StatusCode.INVALID_ARGUMENT,
                 dead_letters: set[str] = frozenset()) -> None:
        self.refused, self.code, self.dead_letters = set(refused), code, set(dead_letters)
        self.settled: list[str] = []
        self.calls = 0

    async def SettleBatch(self, batch, timeout=None):
        self.calls += 1
        ids = [s.request_id for s in batch.settlements]
        if self.refused & set(ids):
            raise failure(self.code)
        self.settled += ids
        return billing_pb2.SettleBatchResponse(
            receipt_ids=["" if i in self.dead_letters else f"rcpt_{i}" for i in ids],
            dead_letter_ids=[f"dlq_{i}" if i in self.dead_letters else "" for i in ids])


async def client_with(tmp_path: Path, billing: FakeBilling, request_ids: list[str]) -> BillingClient:
    client = BillingClient(grpc.aio.insecure_channel("127.0.0.1:1"), 1.0, SettlementOutbox(tmp_path / "outbox.db"))
    client.stub = billing
    for request_id in request_ids:
        await client.outbox.append(request_id, billing_pb2.SettleRequest(request_id=request_id).SerializeToString())
    return client


@pytest.mark.asyncio
async def test_a_row_billing_refuses_alone_is_set_aside_and_the_rest_are_delivered(tmp_path: Path) -> None:
    billing = FakeBilling(refused={"req_bad"})
    client = await client_with(tmp_path, billing, ["req_1", "req_bad", "req_2"])
    assert await client.deliver_once() == 3
    assert billing.settled == ["req_1", "req_2"]
    assert client.outbox.pending() == 0 and client.outbox.set_aside_count() == 1
    client.outbox.close()


@pytest.mark.asyncio
async def test_a_passing_fault_keeps_every_row_for_the_next_try(tmp_path: Path) -> None:
    billing = FakeBilling(refused={"req_1"}, code=grpc.StatusCode.UNAVAILABLE)
    client = await client_with(tmp_path, billing, ["req_1", "req_2"])
    with pytest.raises(grpc.aio.AioRpcError):
        await client.deliver_once()
    assert client.outbox.pending() == 2 and client.outbox.set_aside_count() == 0
    client.outbox.close()


@pytest.mark.asyncio
async def test_a_lone_refused_row_is_retried_before_it_is_set_aside(tmp_path: Path) -> None:
    """With nothing to compare it with, a refusal may be billing's fault: a few tries first."""
    billing = FakeBilling(refused={"req_only"})
    client = await client_with(tmp_path, billing, ["req_only"])
    for _ in range(REFUSALS_BEFORE_SET_ASIDE - 1):
        with pytest.raises(Exception, match="INVALID_ARGUMENT"):
            await client.deliver_once()
        assert client.outbox.pending() == 1
    assert await client.deliver_once() == 1
    assert client.outbox.pending() == 0 and client.outbox.set_aside_count() == 1
    client.outbox.close()


@pytest.mark.asyncio
async def test_dead_lettered_settlements_are_acknowledged_and_a_damaged_row_is_set_aside(tmp_path: Path) -> None:
    billing = FakeBilling(dead_letters={"req_dead"})
    client = await client_with(tmp_path, billing, ["req_dead", "req_ok"])
    await client.outbox._enqueue("settle", "req_damaged", b"\xff\xff not a protobuf")
    await client.outbox.drain_writes()
    assert await client.deliver_once() == 3
    assert billing.settled == ["req_dead", "req_ok"] and billing.calls == 1
    assert client.outbox.pending() == 0 and client.outbox.set_aside_count() == 1
    client.outbox.close()
    await asyncio.sleep(0)
