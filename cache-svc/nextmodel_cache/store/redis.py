"""The production store: Redis, shared by every cache replica.

Entries live under `<prefix><namespace>:<key>` with a TTL; values over the compression
threshold are zlib-compressed (a one-byte marker says which). Leases are `SET NX PX` keys.
Every Redis failure becomes StoreUnavailable, which the service turns into a miss.
"""

from __future__ import annotations

import zlib

import redis.asyncio as redis
from redis.exceptions import RedisError

from nextmodel_cache.store.base import StoreUnavailable

_RAW, _ZLIB = b"r", b"z"


class RedisStore:
    def __init__(self, url: str, prefix: str, compress_over: int) -> None:
        self.client = redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.prefix = prefix
        self.compress_over = compress_over

    async def get(self, namespace: str, key: str) -> bytes | None:
        try:
            stored = await self.client.get(f"{self.prefix}{namespace}:{key}")
        except RedisError as failure:
            raise StoreUnavailable(str(failure)) from None
        if stored is None:
            return None
        assert isinstance(stored, bytes)  # the client answers bytes (decode_responses is off)
        return zlib.decompress(stored[1:]) if stored[:1] == _ZLIB else stored[1:]

    async def set(self, namespace: str, key: str, value: bytes, ttl_seconds: int) -> None:
        stored = _ZLIB + zlib.compress(value, 6) if len(value) > self.compress_over else _RAW + value
        try:
            await self.client.set(f"{self.prefix}{namespace}:{key}", stored, ex=ttl_seconds)
        except RedisError as failure:
            raise StoreUnavailable(str(failure)) from None

    async def acquire_lease(self, key: str, ttl_ms: int) -> bool:
        try:
            return bool(await self.client.set(f"{self.prefix}lease:{key}", b"1", nx=True, px=ttl_ms))
        except RedisError as failure:
            raise StoreUnavailable(str(failure)) from None

    async def release_lease(self, key: str) -> None:
        try:
            await self.client.delete(f"{self.prefix}lease:{key}")
        except RedisError as failure:
            raise StoreUnavailable(str(failure)) from None

    async def lease_held(self, key: str) -> bool:
        try:
            return bool(await self.client.exists(f"{self.prefix}lease:{key}"))
        except RedisError as failure:
            raise StoreUnavailable(str(failure)) from None

    async def count(self, project_id: str, field: str, amount: int = 1) -> None:
        try:
            await self.client.hincrby(f"{self.prefix}stats:{project_id}", field, amount)
        except RedisError as failure:
            raise StoreUnavailable(str(failure)) from None

    async def stats(self, project_id: str, namespace: str) -> dict[str, int]:
        try:
            counters = await self.client.hgetall(f"{self.prefix}stats:{project_id}")
            entries = size = 0
            async for name in self.client.scan_iter(match=f"{self.prefix}{namespace}:*", count=1000):
                entries += 1
                size += await self.client.strlen(name)
        except RedisError as failure:
            raise StoreUnavailable(str(failure)) from None
        counts = {(k.decode() if isinstance(k, bytes) else k): int(v) for k, v in counters.items()}
        return {**counts, "entries": entries, "bytes": size}

    async def close(self) -> None:
        await self.client.aclose()
