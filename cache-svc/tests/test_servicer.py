"""StoreBatch: each store stands alone, and of two stores of one key the later one is kept."""

from nextmodel.cache.v1 import cache_pb2
from nextmodel_cache.service import ExactCache
from nextmodel_cache.servicer import CacheServicer
from nextmodel_cache.store.memory import MemoryStore


def store(slot: str, answer: bytes) -> cache_pb2.StoreRequest:
    return cache_pb2.StoreRequest(cache_key=slot, ttl_seconds=60,
                                  entry=cache_pb2.CacheEntry(response_json=answer, receipt_id="rcpt_x"))


async def test_store_batch_answers_each_store_in_order_and_keeps_the_newest_answer_of_a_key() -> None:
    cache = ExactCache(MemoryStore(100_000), max_entry_bytes=200)
    servicer = CacheServicer(cache)
    answer = await servicer.StoreBatch(cache_pb2.StoreBatchRequest(stores=[
        store("proj_a/k1", b"old answer"), store("proj_a/k2", b"other"), store("proj_a/k1", b"new answer"),
        store("proj_a/k3", b"x" * 500), store("no-namespace", b"bad slot"),
    ]), context=None)
    assert [(r.stored, r.reason.split(":")[0]) for r in answer.results] == [
        (True, ""), (True, ""), (True, ""), (False, "too_large"), (False, "invalid")]
    kept = cache_pb2.CacheEntry.FromString(await cache.backend.get("proj_a", "k1"))
    assert kept.response_json == b"new answer"
