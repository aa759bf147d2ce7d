"""gRPC ↔ domain translation for the cache. No business rules here."""

from __future__ import annotations

import asyncio

import grpc

from nextmodel.cache.v1 import cache_pb2, cache_pb2_grpc
from nextmodel_cache.keys import NotCacheable
from nextmodel_cache.service import ExactCache


class CacheServicer(cache_pb2_grpc.CacheServiceServicer):
    def __init__(self, cache: ExactCache) -> None:
        self.cache = cache

    async def Lookup(self, request, context):
        try:
            found = await self.cache.lookup(
                namespace=request.namespace, requested=request.requested, body_json=request.body_json,
                skip_read=request.skip_read, coalesce_timeout_ms=request.coalesce_timeout_ms,
                project_id=request.project_id)
        except NotCacheable as bad:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(bad))
        answer = cache_pb2.LookupResponse(cache_key=found.slot, hit=found.entry is not None, leader=found.leader,
                                          degraded=found.degraded, coalesced=found.coalesced)
        if found.entry is not None:
            answer.entry.ParseFromString(found.entry)
        return answer

    async def Store(self, request, context):
        try:
            return await self._store(request)
        except ValueError as bad:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(bad))

    async def StoreBatch(self, request, context):
        """Stores of different keys run concurrently (each may be Redis round trips); stores of
        one key run in the order sent, so the newest answer is the one kept."""
        results: list[cache_pb2.StoreResponse | None] = [None] * len(request.stores)
        by_key: dict[str, list[int]] = {}
        for index, store in enumerate(request.stores):
            by_key.setdefault(store.cache_key, []).append(index)

        async def store_in_order(indexes: list[int]) -> None:
            for index in indexes:
                try:
                    results[index] = await self._store(request.stores[index])
                except ValueError as bad:  # one bad store does not fail the others
                    results[index] = cache_pb2.StoreResponse(stored=False, reason=f"invalid: {bad}")

        await asyncio.gather(*(store_in_order(indexes) for indexes in by_key.values()))
        return cache_pb2.StoreBatchResponse(results=results)

    async def _store(self, request: cache_pb2.StoreRequest) -> cache_pb2.StoreResponse:
        stored, reason = await self.cache.store(slot=request.cache_key, entry=request.entry.SerializeToString(),
                                                ttl_seconds=request.ttl_seconds or 86_400)
        return cache_pb2.StoreResponse(stored=stored, reason=reason)

    async def Abandon(self, request, context):
        await self.cache.abandon(request.cache_key)
        return cache_pb2.AbandonResponse()

    async def GetStats(self, request, context):
        stats = await self.cache.stats(request.project_id, request.namespace or request.project_id)
        return cache_pb2.CacheStats(hits=stats.get("hits", 0), misses=stats.get("misses", 0),
                                    entries=stats.get("entries", 0), bytes=stats.get("bytes", 0),
                                    coalesced=stats.get("coalesced", 0))
