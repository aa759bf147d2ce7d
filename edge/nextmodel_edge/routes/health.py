"""GET /healthz (the edge process is up) and GET /readyz (all four services answer SERVING)."""

from __future__ import annotations

import orjson
from fastapi import APIRouter
from fastapi.responses import Response

from nextmodel_edge.deps import SettingsDep, UpstreamsDep

router = APIRouter()


@router.get("/healthz")
async def healthz() -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


@router.get("/readyz")
async def readyz(upstreams: UpstreamsDep, settings: SettingsDep) -> Response:
    services = await upstreams.health(timeout=min(settings.internal_timeout, 2.0))
    ready = all(status == "SERVING" for status in services.values())
    body = {"status": "ready" if ready else "not_ready", "services": services}
    return Response(orjson.dumps(body), status_code=200 if ready else 503, media_type="application/json")
