"""The Redis cache store against a real Redis."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from nextmodel_cache.service import ExactCache
from nextmodel_cache.store import RedisStore, StoreUnavailable

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(redis_url):
    prefix = f"nm:test:{uuid.uuid4().hex[:8]}:"
    redis_store = RedisStore(redis_url, prefix, compress_over=64)
    yield redis_store
    async for name in redis_store.client.scan_iter(match=f"{prefix}*"):
        await redis_store.client.delete(name)
    await redis_store.close()


async def test_entries_round_trip_with_compression_and_ttl(store) -> None:
    large = ("مرحبا " * 200).encode()
    await store.set("proj_a", "k1", large, 60)
    await store.set("proj_a", "k2", b"small", 1)
    assert await store.get("proj_a", "k1") == large
    raw = await store.client.get(f"{store.prefix}proj_a:k1")
    assert raw[:1] == b"z" and len(raw) < len(large) / 5, "large entries are compressed"
    assert 0 < await store.client.ttl(f"{store.prefix}proj_a:k1") <= 60
    await asyncio.sleep(1.2)
    assert await store.get("proj_a", "k2") is None
    stats = await store.stats("proj_a", "proj_a")
    assert stats["entries"] == 1


async def test_leases_are_exclusive_and_expire(store) -> None:
    assert await store.acquire_lease("slot", 200)
    assert not await store.acquire_lease("slot", 200)
    await asyncio.sleep(0.3)
    assert await store.acquire_lease("slot", 200)


async def test_two_cache_replicas_coalesce_through_redis(store) -> None:
    first, second = ExactCache(store, 10_000), ExactCache(store, 10_000)
    body = b'{"model": "m", "messages": [{"role": "user", "content": "x"}]}'
    leader = await first.lookup(namespace="p", requested="m", body_json=body, skip_read=False,
                                coalesce_timeout_ms=3000, project_id="p")
    assert leader.leader
    waiting = asyncio.create_task(second.lookup(namespace="p", requested="m", body_json=body, skip_read=False,
                                                coalesce_timeout_ms=3000, project_id="p"))
    await asyncio.sleep(0.1)
    await first.store(slot=leader.slot, entry=b"from the leader", ttl_seconds=60)
    found = await waiting
    assert found.entry == b"from the leader" and found.coalesced


async def test_an_unreachable_redis_is_reported_not_raised() -> None:
    down = RedisStore("redis://127.0.0.1:9/0", "nm:x:", 64)
    with pytest.raises(StoreUnavailable):
        await down.get("p", "k")
    found = await ExactCache(down, 100).lookup(namespace="p", requested="m", body_json=b"{}", skip_read=False,
                                               coalesce_timeout_ms=100, project_id="p")
    assert found.degraded
    await down.close()
