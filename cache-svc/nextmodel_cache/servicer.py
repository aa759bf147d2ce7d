"""gRPC ↔ domain translation for the cache. No business rules here."""

from __future__ import annotations

import grpc

from nextmodel.cache.v1 import cache_pb2, cache_pb2_grpc
from nextmodel_cache.keys import NotCacheable, cache_key


class CacheServicer(cache_pb2_grpc.CacheServiceServicer):
    """Answers every lookup with a miss until the store lands (the "Exact cache" issue).

    Store, Abandon and GetStats stay UNIMPLEMENTED until then, so nobody mistakes this for a cache.
    """

    async def Lookup(self, request, context):
        try:
            key = cache_key(request.namespace, request.requested, request.body_json)
        except NotCacheable as bad:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(bad))
        return cache_pb2.LookupResponse(cache_key=key, hit=False, leader=False)
