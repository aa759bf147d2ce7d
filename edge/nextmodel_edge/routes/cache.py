"""GET /v1/cache/stats: the caller's project's exact-cache hits, misses, size and savings."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Query
from fastapi.responses import Response

from nextmodel.router.v1 import router_pb2
from nextmodel_common import money
from nextmodel_edge.deps import AuthDep, SettingsDep, UpstreamsDep

router = APIRouter()


@router.get("/v1/cache/stats")
async def cache_stats(upstreams: UpstreamsDep, auth: AuthDep, settings: SettingsDep,
                      currency: str = Query("USD", pattern="^(USD|SAR)$")) -> Response:
    stats = await upstreams.router.GetCacheStats(router_pb2.GetCacheStatsRequest(), metadata=auth,
                                                 timeout=settings.internal_timeout)
    lookups = stats.hits + stats.misses
    body = {
        "object": "nextmodel.cache_stats", "project_id": stats.project_id, "hits": stats.hits,
        "misses": stats.misses, "hit_rate": round(stats.hits / lookups, 4) if lookups else 0.0,
        "coalesced": stats.coalesced, "entries": stats.entries, "bytes": stats.bytes,
        "saved_usd": money.usd(stats.saved_nano_usd), "saved_nano_usd": stats.saved_nano_usd,
    }
    if currency == "SAR":
        body["saved_sar"] = money.sar(stats.saved_nano_usd)
    return Response(orjson.dumps(body), media_type="application/json")
