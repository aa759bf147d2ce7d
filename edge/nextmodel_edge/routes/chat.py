"""POST /v1/chat/completions."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from nextmodel.router.v1 import router_pb2
from nextmodel_common import ids, money
from nextmodel_common.errors import GatewayError, from_rpc_error
from nextmodel_edge.deps import AuthDep, SettingsDep, UpstreamsDep
from nextmodel_edge.errors import error_response, rpc_error_response

router = APIRouter()

_CACHE_MODES = {
    "on": router_pb2.CACHE_MODE_ON,
    "off": router_pb2.CACHE_MODE_OFF,
    "refresh": router_pb2.CACHE_MODE_REFRESH,
}
SERVED_MODE = {router_pb2.SERVED_MODE_FRESH: "fresh", router_pb2.SERVED_MODE_EXACT_CACHE: "exact_cache"}
USAGE_SOURCE = {
    router_pb2.USAGE_SOURCE_UPSTREAM: "upstream",
    router_pb2.USAGE_SOURCE_ESTIMATED: "estimated",
    router_pb2.USAGE_SOURCE_REPLAYED: "replayed",
}


def parse_tags(header: str | None) -> dict[str, str]:
    """x-nextmodel-tags: k=v,k2=v2"""
    tags: dict[str, str] = {}
    for part in (header or "").split(","):
        key, sep, value = part.partition("=")
        if part.strip() and (not sep or not key.strip()):
            raise GatewayError(400, "x-nextmodel-tags must look like 'key=value,key2=value2'.",
                               param="x-nextmodel-tags", code="invalid_header")
        if key.strip():
            tags[key.strip()] = value.strip()
    return tags


def receipt_headers(receipt: router_pb2.ReceiptFacts, *, settled: bool = True) -> dict[str, str]:
    """The x-nextmodel-* headers. A stream starts before usage and cost are known; those
    arrive in its last chunk's `nextmodel` object instead."""
    headers = {
        "x-request-id": receipt.request_id,
        "x-nextmodel-served-mode": SERVED_MODE.get(receipt.served_mode, "fresh"),
        "x-nextmodel-receipt-id": receipt.receipt_id,
        "x-nextmodel-receipt-url": f"/v1/receipts/{receipt.receipt_id}",
        "x-nextmodel-provider": receipt.provider,
        "x-nextmodel-model": receipt.served_model,
        "x-nextmodel-cache-status": receipt.cache_status or "off",
        "x-nextmodel-route-reason": receipt.route_reason,
    }
    if receipt.replayed_receipt_id:
        headers["x-nextmodel-replayed-receipt-id"] = receipt.replayed_receipt_id
    if settled:
        headers["x-nextmodel-usage-source"] = USAGE_SOURCE.get(receipt.usage_source, "upstream")
        headers["x-nextmodel-cost-usd"] = money.usd(receipt.charged_cost_nano_usd)
    if receipt.HasField("budget_remaining_nano_usd"):
        headers["x-nextmodel-budget-remaining"] = money.usd(receipt.budget_remaining_nano_usd)
    return headers


def to_chat_request(raw: bytes, request: Request, request_id: str) -> router_pb2.ChatRequest:
    """Parse just enough of the body to fill the typed fields; the body itself goes on untouched."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise GatewayError(400, "The request body is not valid JSON.", code="invalid_json") from None
    if not isinstance(body, dict):
        raise GatewayError(400, "The request body must be a JSON object.", code="invalid_json")
    model = body.get("model")
    stream = body.get("stream", False)
    if stream not in (True, False, None):
        raise GatewayError(400, "'stream' must be a boolean.", param="stream", code="invalid_type")
    cache_header = request.headers.get("x-nextmodel-cache", "").strip().lower()
    if cache_header and cache_header not in _CACHE_MODES:
        raise GatewayError(400, "x-nextmodel-cache must be one of on, off, refresh.", param="x-nextmodel-cache",
                           code="invalid_header")
    return router_pb2.ChatRequest(
        body_json=raw,
        model=model if isinstance(model, str) else "",
        stream=bool(stream),
        cache_mode=_CACHE_MODES.get(cache_header, router_pb2.CACHE_MODE_UNSPECIFIED),
        policy=request.headers.get("x-nextmodel-policy", ""),
        tags=parse_tags(request.headers.get("x-nextmodel-tags")),
        request_id=request_id,
    )


@router.post("/v1/chat/completions")
async def chat_completions(request: Request, upstreams: UpstreamsDep, auth: AuthDep,
                           settings: SettingsDep) -> Response:
    request_id = ids.new_request_id()
    request.state.request_id = request_id
    try:
        chat_request = to_chat_request(await request.body(), request, request_id)
    except GatewayError as error:
        return error_response(error, request_id)
    if chat_request.stream:
        return await _stream(chat_request, upstreams, auth, settings)
    try:
        answer = await upstreams.router.ChatCompletion(chat_request, metadata=auth, timeout=settings.chat_timeout)
    except grpc.aio.AioRpcError as failure:
        return rpc_error_response(failure, request_id)
    return Response(answer.body_json, media_type="application/json", headers=receipt_headers(answer.receipt))


async def _stream(chat_request: router_pb2.ChatRequest, upstreams, auth, settings) -> Response:
    """Server-sent events. Failures before the stream starts are plain HTTP errors."""
    call = upstreams.router.StreamChatCompletion(chat_request, metadata=auth, timeout=settings.chat_timeout)
    try:
        start = await call.read()
    except grpc.aio.AioRpcError as failure:
        return rpc_error_response(failure, chat_request.request_id)
    if start is grpc.aio.EOF or start.WhichOneof("event") != "start":
        call.cancel()
        return error_response(GatewayError(502, "The router ended the stream before it started.",
                                           code="stream_error"), chat_request.request_id)
    headers = receipt_headers(start.start, settled=False) | {"cache-control": "no-cache", "x-accel-buffering": "no"}
    return StreamingResponse(_events(call), media_type="text/event-stream", headers=headers)


def _sse_error(error: GatewayError) -> bytes:
    return b"data: " + orjson.dumps(error.to_openai()) + b"\n\n"


async def _events(call) -> AsyncIterator[bytes]:
    # When the client disconnects, Starlette cancels this generator; cancelling the gRPC
    # call then cancels the router's work and the upstream request.
    try:
        while True:
            event = await call.read()
            if event is grpc.aio.EOF:
                yield _sse_error(GatewayError(502, "The stream ended unexpectedly.", code="stream_error"))
                return
            kind = event.WhichOneof("event")
            if kind == "chunk_json":
                yield b"data: " + event.chunk_json + b"\n\n"
            elif kind == "final":
                yield b"data: [DONE]\n\n"
                return
            elif kind == "error":
                yield _sse_error(GatewayError.from_proto(event.error))
                return
    except grpc.aio.AioRpcError as failure:
        yield _sse_error(from_rpc_error(failure, "router"))
    finally:
        call.cancel()
