"""Every error the edge returns has OpenAI's shape: {"error": {message, type, param, code}}."""

from __future__ import annotations

import grpc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
import orjson

from nextmodel_common.errors import GatewayError, from_rpc_error


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


def install(app: FastAPI) -> None:
    @app.exception_handler(GatewayError)
    async def _gateway(request: Request, error: GatewayError) -> Response:
        return error_response(error, getattr(request.state, "request_id", None))

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
        first = error.errors()[0] if error.errors() else {}
        param = ".".join(str(p) for p in first.get("loc", ())[1:]) or None
        return error_response(GatewayError(400, f"Invalid request: {first.get('msg', 'bad input')}.", param=param,
                                           code="invalid_value"))
