"""The router's cache client gathers stores into StoreBatch calls without reordering them."""

import asyncio

import grpc
import pytest

from nextmodel.cache.v1 import cache_pb2
from nextmodel_router.clients import CacheClient


def rpc_error(code: grpc.StatusCode) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata())


class FakeStub:
    def __init__(self, fail: bool = False, old_cache: bool = False) -> None:
        self.batches: list[list[str]] = []
        self.singles: list[str] = []
        self.fail = fail
        self.old_cache = old_cache  # a cache-svc from before StoreBatch

    async def StoreBatch(self, request, timeout):
        await asyncio.sleep(0.001)
        if self.fail:
            raise rpc_error(grpc.StatusCode.UNAVAILABLE)
        if self.old_cache:
            raise rpc_error(grpc.StatusCode.UNIMPLEMENTED)
        self.batches.append([store.cache_key for store in request.stores])
        return cache_pb2.StoreBatchResponse(results=[cache_pb2.StoreResponse(stored=True) for _ in request.stores])

    async def Store(self, request, timeout):
        self.singles.append(request.cache_key)
        return cache_pb2.StoreResponse(stored=True)


def client(stub: FakeStub, linger: float) -> CacheClient:
    cache = CacheClient(grpc.aio.insecure_channel("127.0.0.1:1"), 1.0, store_linger_seconds=linger)
    cache.stub = stub  # nothing listens on that channel: every call goes to the fake
    return cache


def store(key: str) -> cache_pb2.StoreRequest:
    return cache_pb2.StoreRequest(cache_key=key)


def test_stores_within_the_linger_go_in_one_call_in_order() -> None:
    async def run():
        stub = FakeStub()
        cache = client(stub, 0.05)
        results = await asyncio.gather(*(cache.store(store(f"k{i}")) for i in range(5)))
        return stub, results

    stub, results = asyncio.run(run())
    assert stub.batches == [["k0", "k1", "k2", "k3", "k4"]]
    assert all(result.stored for result in results)


def test_an_urgent_store_flushes_the_earlier_ones_first() -> None:
    async def run():
        stub = FakeStub()
        cache = client(stub, 10.0)  # a linger nobody would wait out in a test
        older = asyncio.create_task(cache.store(store("same-key")))
        await asyncio.sleep(0)
        newer = await asyncio.wait_for(cache.store(store("same-key-refreshed"), linger=False), 1.0)
        await older
        return stub, newer

    stub, newer = asyncio.run(run())
    assert stub.batches == [["same-key", "same-key-refreshed"]] and newer.stored


def test_an_unreachable_cache_answers_none_to_every_waiting_store() -> None:
    async def run():
        cache = client(FakeStub(fail=True), 0.01)
        return await asyncio.gather(*(cache.store(store(f"k{i}")) for i in range(3)))

    assert asyncio.run(run()) == [None, None, None]


def test_a_cancelled_batch_answers_none_instead_of_hanging() -> None:
    async def run():
        cache = client(FakeStub(), 10.0)
        waiting = asyncio.create_task(cache.store(store("k")))
        await asyncio.sleep(0.01)
        cache._flusher.cancel()
        return await asyncio.wait_for(waiting, 1.0)

    assert asyncio.run(run()) is None


@pytest.mark.parametrize("linger", [0.0, 0.01])
def test_later_stores_after_a_flush_start_a_new_batch(linger: float) -> None:
    async def run():
        stub = FakeStub()
        cache = client(stub, linger)
        await cache.store(store("a"))
        await cache.store(store("b"))
        return stub

    assert asyncio.run(run()).batches == [["a"], ["b"]]


def test_a_cache_svc_without_store_batch_gets_one_store_per_answer() -> None:
    async def run():
        stub = FakeStub(old_cache=True)
        cache = client(stub, 0.01)
        return stub, await asyncio.gather(*(cache.store(store(f"k{i}")) for i in range(3)))

    stub, results = asyncio.run(run())
    assert sorted(stub.singles) == ["k0", "k1", "k2"] and all(result.stored for result in results)


def test_a_batch_is_cut_by_bytes_and_an_entry_larger_than_the_cut_still_goes() -> None:
    async def run():
        stub = FakeStub()
        cache = client(stub, 0.01)
        cache.store_batch_bytes = 1000
        big = cache_pb2.StoreRequest(cache_key="big", entry=cache_pb2.CacheEntry(response_json=b"x" * 1500))
        results = await asyncio.gather(cache.store(store("a")), cache.store(big), cache.store(store("b")))
        return stub, results

    stub, results = asyncio.run(run())
    assert stub.batches == [["a"], ["big"], ["b"]] and all(result.stored for result in results)


def test_stores_beyond_the_waiting_bound_are_refused_at_once() -> None:
    async def run():
        cache = client(FakeStub(), 10.0)
        cache.max_waiting_stores = 2
        waiting = [asyncio.create_task(cache.store(store(f"k{i}"))) for i in range(2)]
        await asyncio.sleep(0)
        refused = await cache.store(store("k2"))
        await cache.close()
        return refused, await asyncio.gather(*waiting)

    refused, waited = asyncio.run(run())
    assert refused is None and waited == [None, None], "close() answers the waiting stores too"
