"""Compare: the same request on several models at once; each call is billed and receipted as usual."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import orjson

from nextmodel.billing.v1 import billing_pb2
from nextmodel.router.v1 import router_pb2
from nextmodel_common.errors import GatewayError
from nextmodel_router.chat.request import parse_body

MAX_MODELS = 8

Complete = Callable[[billing_pb2.Principal, router_pb2.ChatRequest],
                    Awaitable[tuple[bytes, router_pb2.ReceiptFacts]]]


async def compare(complete: Complete, principal: billing_pb2.Principal,
                  request: router_pb2.CompareRequest) -> router_pb2.CompareResponse:
    if not request.models or len(request.models) > MAX_MODELS:
        raise GatewayError(400, "'models' must name 1 to 8 models.", param="models", code="invalid_value")
    try:
        given = orjson.loads(request.body_json or b"{}")
    except orjson.JSONDecodeError:
        given = None
    if not isinstance(given, dict):
        raise GatewayError(400, "'request' must be a chat completion body.", param="request", code="invalid_type")
    body = parse_body(orjson.dumps({**given, "model": request.models[0]}))
    body.pop("stream", None)

    async def one(model: str) -> router_pb2.CompareResult:
        started = time.perf_counter()
        chat = router_pb2.ChatRequest(body_json=orjson.dumps({**body, "model": model}), model=model,
                                      tags=request.tags)
        try:
            body_json, facts = await complete(principal, chat)
            return router_pb2.CompareResult(model=model, body_json=body_json, receipt=facts,
                                            latency_ms=int((time.perf_counter() - started) * 1000))
        except GatewayError as error:
            return router_pb2.CompareResult(model=model, error=error.to_proto(),
                                            latency_ms=int((time.perf_counter() - started) * 1000))

    return router_pb2.CompareResponse(results=await asyncio.gather(*(one(m) for m in request.models)))
