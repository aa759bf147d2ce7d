import asyncio

import orjson

from nextmodel_cache.service import ExactCache
from nextmodel_cache.store import MemoryStore, StoreUnavailable

BODY = orjson.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": 0})


def lookup(cache: ExactCache, body: bytes = BODY, namespace: str = "proj_a", timeout_ms: int = 2000):
    return cache.lookup(namespace=namespace, requested="m", body_json=body, skip_read=False,
                        coalesce_timeout_ms=timeout_ms, project_id=namespace)


async def test_miss_then_store_then_hit() -> None:
    cache = ExactCache(MemoryStore(10_000), max_entry_bytes=1_000)
    first = await lookup(cache)
    assert first.entry is None and first.leader
    assert await cache.store(slot=first.slot, entry=b"answer", ttl_seconds=60) == (True, "")
    hit = await lookup(cache)
    assert hit.entry == b"answer" and not hit.leader
    await asyncio.sleep(0)  # let the statistics land
    stats = await cache.stats("proj_a", "proj_a")
    assert (stats["hits"], stats["misses"], stats["entries"], stats["bytes"]) == (1, 1, 1, 6)


async def test_identical_misses_wait_for_the_leader() -> None:
    cache = ExactCache(MemoryStore(10_000), max_entry_bytes=1_000)
    leader = await lookup(cache)
    followers = [asyncio.create_task(lookup(cache)) for _ in range(5)]
    await asyncio.sleep(0.05)
    assert not any(f.done() for f in followers), "followers wait for the leader"
    await cache.store(slot=leader.slot, entry=b"shared", ttl_seconds=60)
    answers = await asyncio.gather(*followers)
    assert [a.entry for a in answers] == [b"shared"] * 5 and all(a.coalesced for a in answers)


async def test_an_abandoned_or_silent_leader_releases_the_followers() -> None:
    cache = ExactCache(MemoryStore(10_000), max_entry_bytes=1_000)
    leader = await lookup(cache)
    follower = asyncio.create_task(lookup(cache))
    await asyncio.sleep(0.02)
    await cache.abandon(leader.slot)
    assert (await follower).entry is None
    silent = await lookup(cache, timeout_ms=100)
    assert silent.leader
    started = asyncio.get_running_loop().time()
    assert (await lookup(cache, timeout_ms=100)).entry is None
    assert asyncio.get_running_loop().time() - started < 0.5, "a silent leader blocks no one for long"


async def test_too_large_entries_are_served_to_waiters_but_not_kept() -> None:
    cache = ExactCache(MemoryStore(10_000), max_entry_bytes=4)
    leader = await lookup(cache)
    follower = asyncio.create_task(lookup(cache))
    await asyncio.sleep(0.01)
    assert await cache.store(slot=leader.slot, entry=b"too big", ttl_seconds=60) == (False, "too_large")
    assert (await follower).entry == b"too big"
    assert (await lookup(cache, timeout_ms=0)).entry is None


async def test_memory_store_is_bounded_and_expires() -> None:
    store = MemoryStore(max_bytes=10)
    await store.set("p", "a", b"12345", 60)
    await store.set("p", "b", b"12345", 60)
    await store.get("p", "a")  # a is now the most recently used
    await store.set("p", "c", b"12345", 60)
    assert await store.get("p", "b") is None and await store.get("p", "a") == b"12345"
    await store.set("p", "d", b"x", 0)
    assert await store.get("p", "d") is None


class BrokenStore(MemoryStore):
    async def get(self, namespace, key):
        raise StoreUnavailable("down")


async def test_a_store_that_is_down_answers_a_degraded_miss() -> None:
    found = await lookup(ExactCache(BrokenStore(100), 100))
    assert found.entry is None and found.degraded and not found.leader


async def test_namespaces_never_share_entries() -> None:
    cache = ExactCache(MemoryStore(10_000), max_entry_bytes=1_000)
    first = await lookup(cache, namespace="proj_a")
    await cache.store(slot=first.slot, entry=b"a's answer", ttl_seconds=60)
    assert (await lookup(cache, namespace="proj_b", timeout_ms=0)).entry is None
