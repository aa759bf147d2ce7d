"""GET /healthz (the edge process is up) and GET /readyz (the router can serve; readiness.py)."""

from __future__ import annotations

import orjson
from fastapi import APIRouter
from fastapi.responses import Response

from nextmodel_edge.deps import ReadinessDep

router = APIRouter()


@router.get("/healthz")
async def healthz() -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


@router.get("/readyz")
async def readyz(readiness: ReadinessDep) -> Response:
    ready, checks = await readiness.check()
    body = {"status": "ready" if ready else "unavailable", "checks": checks}
    return Response(orjson.dumps(body), status_code=200 if ready else 503, media_type="application/json")
