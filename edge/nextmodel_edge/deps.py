"""Typed dependencies for the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from nextmodel_edge.clients import Upstreams
from nextmodel_edge.config import EdgeSettings, get_settings


def get_upstreams(request: Request) -> Upstreams:
    return request.app.state.upstreams


def auth_metadata(request: Request) -> tuple[tuple[str, str], ...]:
    """The caller's key goes to the router as call metadata, untouched; the edge never checks it."""
    authorization = request.headers.get("authorization")
    return (("authorization", authorization),) if authorization else ()


UpstreamsDep = Annotated[Upstreams, Depends(get_upstreams)]
SettingsDep = Annotated[EdgeSettings, Depends(get_settings)]
AuthDep = Annotated[tuple[tuple[str, str], ...], Depends(auth_metadata)]
