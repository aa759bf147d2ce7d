"""Every error the edge returns has OpenAI's shape: {"error": {message, type, param, code}}."""

from __future__ import annotations

import grpc
import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from nextmodel.billing.v1 import admin_pb2
from nextmodel_common.access import bearer
from nextmodel_common.errors import GatewayError, from_rpc_error

ADMIN_PREFIX = "/admin/v1"
MISSING_KEY = GatewayError(401, "Missing API key. Send it as 'Authorization: Bearer <key>'.", code="missing_api_key")
ADMIN_KEY_REQUIRED = GatewayError(401, "This needs the admin key (NEXTMODEL_ADMIN_KEY) as the bearer token.",
                                  code="admin_key_required")


def error_response(error: GatewayError, request_id: str | None = None) -> Response:
    headers = {}
    if request_id:
        headers["x-request-id"] = request_id
    if error.retry_after_seconds:
        headers["retry-after"] = str(error.retry_after_seconds)
    return Response(orjson.dumps(error.to_openai()), status_code=error.http_status,
                    media_type="application/json", headers=headers)


def rpc_error_response(failure: grpc.aio.AioRpcError, request_id: str | None = None) -> Response:
    return error_response(from_rpc_error(failure, "router"), request_id)


async def credentials_refusal(request: Request) -> GatewayError | None:
    """Why the caller's key is refused, asked only when its request is invalid anyway.

    Authentication comes before validation: a bad key hears 401 whatever its body holds, so an
    invalid body tells an unauthenticated caller nothing. Valid requests never pay this call (the
    service behind checks the key with the request itself). None when the key is good, or when
    billing cannot answer (the 400 then stands).
    """
    path = request.url.path
    if not (path.startswith("/v1/") or path.startswith(ADMIN_PREFIX)):
        return None
    admin_route = path.startswith(ADMIN_PREFIX)
    authorization = request.headers.get("authorization")
    if not bearer(authorization):
        return ADMIN_KEY_REQUIRED if admin_route else MISSING_KEY
    upstreams = request.app.state.upstreams
    try:
        caller = await upstreams.usage.WhoAmI(admin_pb2.WhoAmIRequest(), metadata=(("authorization", authorization),),
                                              timeout=request.app.state.settings.internal_timeout)
    except grpc.aio.AioRpcError as failure:
        if failure.code() == grpc.StatusCode.UNAUTHENTICATED:
            return ADMIN_KEY_REQUIRED if admin_route else from_rpc_error(failure, "billing")
        return None
    return ADMIN_KEY_REQUIRED if admin_route and not caller.admin else None


def _param(loc) -> str | None:
    """The field in error as a dotted path. A map key is a client's value, not a field name: the
    path stops at the map (and at any segment too long to be a field name)."""
    segments: list[str] = []
    for index, segment in enumerate(map(str, loc)):
        if segment == "[key]" or (index + 1 < len(loc) and str(loc[index + 1]) == "[key]") or len(segment) > 64:
            break
        segments.append(segment)
    return ".".join(segments) or None


def install(app: FastAPI) -> None:
    @app.exception_handler(GatewayError)
    async def _gateway(request: Request, error: GatewayError) -> Response:
        if error.http_status == 400:
            error = await credentials_refusal(request) or error
        return error_response(error, getattr(request.state, "request_id", None))

    @app.exception_handler(grpc.aio.AioRpcError)
    async def _rpc(request: Request, failure: grpc.aio.AioRpcError) -> Response:
        # Every route calls a service and lets its refusal or failure come here: the service's
        # OpenAI-shaped error (GatewayError in the trailing metadata) or, failing that, the status.
        return rpc_error_response(failure, getattr(request.state, "request_id", None))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code == 404:
            message = f"Unknown path {request.url.path}. See the README for the endpoints."
            code = "unknown_url"
        elif error.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}."
            code = "method_not_allowed"
        else:
            message, code = str(error.detail), None
        return error_response(GatewayError(error.status_code, message, code=code))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> Response:
        refused = await credentials_refusal(request)
        if refused is not None:
            return error_response(refused)
        first = error.errors()[0] if error.errors() else {}
        param = _param(first.get("loc", ())[1:])
        return error_response(GatewayError(400, f"Invalid request: {first.get('msg', 'bad input')}.", param=param,
                                           code="invalid_value"))
