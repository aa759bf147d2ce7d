"""Typed dependencies for the routes.

They are `async def` on purpose: FastAPI runs plain `def` dependencies in a thread pool, and
three thread hops per request cost more than everything else the edge does.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from nextmodel_common import limits
from nextmodel_common.access import bearer
from nextmodel_common.errors import GatewayError
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
    """The caller's key goes on as call metadata; the services behind decide whether it is good.

    The edge refuses only what cannot be a key at all: one longer than any key NextModel issues
    (it would not even fit gRPC metadata) or with control characters, as 401.
    """
    authorization = request.headers.get("authorization")
    if not authorization:
        return ()
    token = bearer(authorization) or ""
    too_long = len(authorization) > limits.CREDENTIAL.max_length + len("Bearer ")
    if too_long or (token and limits.CREDENTIAL.problem(token)):
        raise GatewayError(401, "Invalid API key. Check the key, or create a new one.", code="invalid_api_key")
    return (("authorization", authorization),)


UpstreamsDep = Annotated[Upstreams, Depends(get_upstreams)]
ReadinessDep = Annotated[Readiness, Depends(get_readiness)]
SettingsDep = Annotated[EdgeSettings, Depends(current_settings)]
AuthDep = Annotated[tuple[tuple[str, str], ...], Depends(auth_metadata)]
