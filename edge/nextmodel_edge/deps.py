"""Typed dependencies for the routes.

They are `async def` on purpose: FastAPI runs plain `def` dependencies in a thread pool, and
three thread hops per request cost more than everything else the edge does.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from nextmodel_edge.clients import Upstreams
from nextmodel_edge.config import EdgeSettings
from nextmodel_edge.readiness import Readiness


async def get_upstreams(request: Request) -> Upstreams:
    return request.app.state.upstreams


async def get_readiness(request: Request) -> Readiness:
    return request.app.state.readiness


async def current_settings(request: Request) -> EdgeSettings:
    return request.app.state.settings


async def auth_metadata(request: Request) -> tuple[tuple[str, str], ...]:
    """The caller's key goes to the router as call metadata, untouched; the edge never checks it."""
    authorization = request.headers.get("authorization")
    return (("authorization", authorization),) if authorization else ()


UpstreamsDep = Annotated[Upstreams, Depends(get_upstreams)]
ReadinessDep = Annotated[Readiness, Depends(get_readiness)]
SettingsDep = Annotated[EdgeSettings, Depends(current_settings)]
AuthDep = Annotated[tuple[tuple[str, str], ...], Depends(auth_metadata)]
