"""POST /v1/chat/completions."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from nextmodel.common.v1 import common_pb2
from nextmodel.router.v1 import router_pb2
from nextmodel_common import enums, ids, limits, money
from nextmodel_common.errors import GatewayError, from_rpc_error
from nextmodel_edge.deps import AuthDep, SettingsDep, UpstreamsDep
from nextmodel_edge.errors import credentials_refusal, error_response

router = APIRouter()

_CACHE_MODES = {
    "on": router_pb2.CACHE_MODE_ON,
    "off": router_pb2.CACHE_MODE_OFF,
    "refresh": router_pb2.CACHE_MODE_REFRESH,
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
    return dict(limits.check_tags(tags, "x-nextmodel-tags"))


def _policy_header(value: str) -> str:
    return limits.POLICY_NAME.check(value.strip(), "x-nextmodel-policy") if value.strip() else ""


def receipt_headers(receipt: router_pb2.ReceiptFacts, *, settled: bool = True) -> dict[str, str]:
    """The x-nextmodel-* headers. A stream starts before usage and cost are known; those
    arrive in its last chunk's `nextmodel` object instead."""
    headers = {
        "x-request-id": receipt.request_id,
        "x-nextmodel-served-mode": enums.name(common_pb2.ServedMode, receipt.served_mode) or "fresh",
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
        headers["x-nextmodel-usage-source"] = enums.name(common_pb2.UsageSource, receipt.usage_source) or "upstream"
        headers["x-nextmodel-cost-usd"] = money.usd(receipt.charged_cost_nano_usd)
    if receipt.HasField("budget_remaining_nano_usd"):
        headers["x-nextmodel-budget-remaining"] = money.usd(receipt.budget_remaining_nano_usd)
    return headers


def load_body(raw: bytes) -> dict:
    """The body as a JSON object. The router checks every field (nextmodel_router.chat.parse_body)."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as failure:
        message = "The request body is not valid UTF-8." if "UTF-8" in str(failure) else \
            "The request body is not valid JSON."
        raise GatewayError(400, message, code="invalid_json") from None
    if not isinstance(body, dict):
        raise GatewayError(400, "The request body must be a JSON object.", code="invalid_json")
    return body


def to_chat_request(raw: bytes, request: Request, request_id: str) -> router_pb2.ChatRequest:
    """Parse just enough of the body to fill the typed fields; the body itself goes on untouched."""
    body = load_body(raw)
    model = body.get("model")
    if isinstance(model, str):
        limits.MODEL.check(model, "model")
    limits.check_body_fields(body)
    stream = body.get("stream", False)
    if stream is not None and not isinstance(stream, bool):  # 1 == True, but 1 is not a boolean
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
        policy=_policy_header(request.headers.get("x-nextmodel-policy", "")),
        tags=parse_tags(request.headers.get("x-nextmodel-tags")),
        request_id=request_id,
    )


# Every error has OpenAI's shape.
OPENAI_ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["message", "type", "param", "code"], "properties": {
        "message": {"type": "string"}, "type": {"type": "string"},
        "param": {"type": ["string", "null"]}, "code": {"type": ["string", "null"]}}}},
}


def _error_response_doc(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": OPENAI_ERROR_SCHEMA}}}


_NUMBER_OR_NULL = ["number", "null"]
_INTEGER_OR_NULL = ["integer", "null"]
_CONTENT_PART = {
    "type": "object", "required": ["type"], "additionalProperties": True,
    "properties": {"type": {"type": "string"}, "text": {"type": "string"},
                   "image_url": {"type": "object", "required": ["url"], "properties": {"url": {"type": "string"}}}},
}
# OpenAI's chat completion request, as far as NextModel reads it; other fields reach the provider as sent.
CHAT_REQUEST_SCHEMA = {
    "type": "object",
    "required": ["model", "messages"],
    "additionalProperties": True,
    "properties": {
        "model": {"type": "string", "minLength": 1, "maxLength": 256,
                  "description": "A model id or alias from GET /v1/models, or nextmodel/<policy>."},
        "messages": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["role"], "additionalProperties": True,
            "properties": {
                "role": {"type": "string", "enum": ["system", "developer", "user", "assistant", "tool", "function"]},
                "content": {"anyOf": [{"type": "string"}, {"type": "array", "items": _CONTENT_PART},
                                      {"type": "null"}]},
                "name": {"type": "string"},
                "tool_call_id": {"type": "string"},
                "tool_calls": {"type": "array", "items": {"type": "object", "properties": {
                    "id": {"type": "string"}, "type": {"type": "string"},
                    "function": {"type": "object", "properties": {"name": {"type": "string"},
                                                                  "arguments": {"type": "string"}}}}}},
            },
        }},
        "stream": {"type": ["boolean", "null"]},
        "stream_options": {"type": ["object", "null"], "properties": {"include_usage": {"type": "boolean"}}},
        "temperature": {"type": _NUMBER_OR_NULL, "minimum": 0, "maximum": 2},
        "top_p": {"type": _NUMBER_OR_NULL, "minimum": 0, "maximum": 1},
        "n": {"type": _INTEGER_OR_NULL, "minimum": 1, "maximum": 128},
        "max_tokens": {"type": _INTEGER_OR_NULL, "minimum": 1, "maximum": 10_000_000},
        "max_completion_tokens": {"type": _INTEGER_OR_NULL, "minimum": 1, "maximum": 10_000_000},
        "presence_penalty": {"type": _NUMBER_OR_NULL, "minimum": -2, "maximum": 2},
        "frequency_penalty": {"type": _NUMBER_OR_NULL, "minimum": -2, "maximum": 2},
        "stop": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}, {"type": "null"}]},
        "seed": {"type": _INTEGER_OR_NULL},
        "user": {"type": "string"},
        "logprobs": {"type": ["boolean", "null"]},
        "top_logprobs": {"type": _INTEGER_OR_NULL, "minimum": 0, "maximum": 20},
        "logit_bias": {"type": ["object", "null"], "additionalProperties": {"type": "number"}},
        "parallel_tool_calls": {"type": ["boolean", "null"]},
        "reasoning_effort": {"type": ["string", "null"]},
        "tools": {"type": ["array", "null"], "items": {
            "type": "object", "required": ["type"], "properties": {
                "type": {"type": "string"},
                "function": {"type": "object", "required": ["name"], "properties": {
                    "name": {"type": "string", "minLength": 1}, "description": {"type": "string"},
                    "parameters": {"type": "object"}, "strict": {"type": ["boolean", "null"]}}}}}},
        "tool_choice": {"anyOf": [{"type": "string"}, {"type": "object", "required": ["type"]}, {"type": "null"}]},
        "response_format": {"type": ["object", "null"], "required": ["type"], "properties": {
            "type": {"type": "string"},
            "json_schema": {"type": "object", "properties": {"name": {"type": "string"},
                                                             "schema": {"type": "object"}}}}},
    },
}
# OpenAI's legacy completions request, as far as NextModel reads it.
COMPLETIONS_REQUEST_SCHEMA = {
    "type": "object",
    "required": ["model", "prompt"],
    "additionalProperties": True,
    "properties": {
        "model": {"type": "string", "minLength": 1, "maxLength": 256},
        "prompt": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "maxItems": 1}]},
        "max_tokens": {"type": _INTEGER_OR_NULL, "minimum": 1, "maximum": 10_000_000},
        "temperature": {"type": _NUMBER_OR_NULL, "minimum": 0, "maximum": 2},
        "top_p": {"type": _NUMBER_OR_NULL, "minimum": 0, "maximum": 1},
        "n": {"type": _INTEGER_OR_NULL, "minimum": 1, "maximum": 128},
        "stream": {"type": ["boolean", "null"]},
        "stop": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}, {"type": "null"}]},
        "user": {"type": "string"},
    },
}
CHAT_OPENAPI = {
    "requestBody": {"required": True, "content": {"application/json": {"schema": CHAT_REQUEST_SCHEMA}}},
    "responses": {
        "200": {"description": "A chat.completion, or with stream=true a text/event-stream of chunks.",
                "content": {"application/json": {"schema": {"type": "object"}},
                            "text/event-stream": {"schema": {"type": "string"}}}},
        **{str(status): _error_response_doc(description) for status, description in (
            (400, "The request is invalid (the field is in error.param)."),
            (401, "Missing or invalid API key."),
            (403, "The key may not use this model."),
            (404, "Unknown model or routing policy."),
            (413, "The request body is too large."),
            (429, "Rate limit, budget, or too many failed authentications; see Retry-After."),
            (431, "The request headers are too large."),
            (502, "The provider failed."),
            (503, "The gateway is at capacity or a service is unavailable; see Retry-After."),
            (504, "The provider did not answer in time."),
        )},
    },
}
COMPLETIONS_OPENAPI = {
    **CHAT_OPENAPI,
    "requestBody": {"required": True, "content": {"application/json": {"schema": COMPLETIONS_REQUEST_SCHEMA}}},
}


@router.post("/v1/chat/completions", openapi_extra=CHAT_OPENAPI)
async def chat_completions(request: Request, upstreams: UpstreamsDep, auth: AuthDep,
                           settings: SettingsDep) -> Response:
    return await serve(request, upstreams, auth, settings, router_pb2.SURFACE_CHAT_COMPLETIONS)


@router.post("/v1/completions", openapi_extra=COMPLETIONS_OPENAPI)
async def completions(request: Request, upstreams: UpstreamsDep, auth: AuthDep, settings: SettingsDep) -> Response:
    """OpenAI's legacy text completions, served by chat models (the router translates both ways)."""
    return await serve(request, upstreams, auth, settings, router_pb2.SURFACE_COMPLETIONS)


async def serve(request: Request, upstreams, auth, settings, surface: int) -> Response:
    """One request of an OpenAI surface the router's chat path serves, streamed or not."""
    request_id = ids.new_request_id()
    request.state.request_id = request_id
    try:
        chat_request = to_chat_request(await request.body(), request, request_id)
    except GatewayError as error:
        return error_response(await credentials_refusal(request) or error, request_id)
    chat_request.surface = surface
    if chat_request.stream:
        return await _stream(chat_request, upstreams, auth, settings)
    answer = await upstreams.router.ChatCompletion(chat_request, metadata=auth, timeout=settings.chat_timeout)
    return Response(answer.body_json, media_type="application/json", headers=receipt_headers(answer.receipt))


async def _stream(chat_request: router_pb2.ChatRequest, upstreams, auth, settings) -> Response:
    """Server-sent events. Failures before the stream starts are plain HTTP errors."""
    call = upstreams.router.StreamChatCompletion(chat_request, metadata=auth, timeout=settings.chat_timeout)
    start = await call.read()
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
