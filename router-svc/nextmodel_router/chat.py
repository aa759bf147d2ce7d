"""The chat-completion flow: validate, resolve, look up the cache, call the upstream, settle.

This is the product's request path. It knows the rules of the business; the servicer
only translates gRPC to these calls and back.
"""

from __future__ import annotations

import difflib
import logging
import time
from dataclasses import dataclass

import orjson

from nextmodel.billing.v1 import billing_pb2
from nextmodel.cache.v1 import cache_pb2
from nextmodel.router.v1 import router_pb2
from nextmodel_common import ids, money
from nextmodel_common.errors import GatewayError
from nextmodel_router import usage as usage_mod
from nextmodel_router.adapters import OpenAICompatAdapter, UpstreamError
from nextmodel_router.catalog_copy import CatalogCopy, ModelRoute
from nextmodel_router.clients import BillingClient, CacheClient
from nextmodel_router.credentials import Credentials

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChatOutcome:
    body_json: bytes
    receipt: router_pb2.ReceiptFacts


def parse_body(body_json: bytes) -> dict:
    try:
        body = orjson.loads(body_json)
    except orjson.JSONDecodeError:
        raise GatewayError(400, "The request body is not valid JSON.", code="invalid_json") from None
    if not isinstance(body, dict):
        raise GatewayError(400, "The request body must be a JSON object.", code="invalid_json")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise GatewayError(400, "'model' is required: the id of a model from GET /v1/models.", param="model",
                           code="missing_required_parameter" if model is None else "invalid_type")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise GatewayError(400, "'messages' is required and must be a non-empty array of messages.",
                           param="messages",
                           code="missing_required_parameter" if messages is None else "invalid_type")
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise GatewayError(400, f"messages[{index}] must be an object with a 'role'.",
                               param=f"messages[{index}]", code="invalid_type")
    return body


class ChatFlow:
    def __init__(self, catalog: CatalogCopy, cache: CacheClient, billing: BillingClient,
                 credentials: Credentials, openai_adapter: OpenAICompatAdapter) -> None:
        self.catalog = catalog
        self.cache = cache
        self.billing = billing
        self.credentials = credentials
        self.adapters = {"openai": openai_adapter}

    def resolve(self, requested: str, principal: billing_pb2.Principal) -> ModelRoute:
        view = self.catalog.view
        if view is None:
            raise GatewayError(503, "The model catalog is not loaded yet. Retry in a few seconds.",
                               code="catalog_unavailable", retry_after_seconds=2)
        route = view.resolve(requested)
        if route is None:
            close = difflib.get_close_matches(requested, list(view.by_name), n=3, cutoff=0.5)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else " See GET /v1/models."
            raise GatewayError(404, f"The model {requested!r} does not exist.{hint}", param="model",
                               code="model_not_found")
        if principal.allowed_models and route.id not in principal.allowed_models:
            raise GatewayError(403, f"This API key may not use the model {route.id!r}.", param="model",
                               code="model_not_allowed")
        return route

    async def complete(self, principal: billing_pb2.Principal, request: router_pb2.ChatRequest) -> ChatOutcome:
        started = time.perf_counter()
        request_id = request.request_id or ids.new_request_id()
        body = parse_body(request.body_json)
        requested = body["model"]
        route = self.resolve(requested, principal)

        if principal.cache_enabled and request.cache_mode != router_pb2.CACHE_MODE_OFF:
            # The cache service answers misses until the exact cache lands; asking keeps the
            # path honest and measured.
            await self.cache.lookup(cache_pb2.LookupRequest(
                namespace=principal.cache_namespace or principal.project_id,
                requested=requested,
                body_json=request.body_json,
                skip_read=request.cache_mode == router_pb2.CACHE_MODE_REFRESH,
                project_id=principal.project_id,
            ))

        credential = await self.credentials.resolve(route.provider, principal.project_id)
        adapter = self.adapters.get(route.provider.protocol)
        if adapter is None:
            raise GatewayError(502, f"Provider {route.provider.id} speaks {route.provider.protocol!r}, "
                                    "which this gateway cannot call yet.", code="provider_unsupported")
        try:
            result = await adapter.complete(route.provider.id, credential, route.upstream_id, body)
        except UpstreamError as failure:
            raise upstream_gateway_error(failure) from None
        attempt = router_pb2.Attempt(provider=route.provider.id, model=route.id, outcome="ok",
                                     latency_ms=result.latency_ms)

        usage = usage_mod.from_response(result.response, body)
        list_cost = money.request_cost_nano(
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cached_prompt_tokens=usage.cached_prompt_tokens,
            input_per_mtok=route.input_per_mtok,
            cached_input_per_mtok=route.cached_input_per_mtok,
            output_per_mtok=route.output_per_mtok,
        )
        latency_ms = int((time.perf_counter() - started) * 1000)
        receipt_id = ids.new_receipt_id()
        settled = await self.billing.settle(billing_pb2.SettleRequest(
            request_id=request_id,
            receipt_id=receipt_id,
            key_id=principal.key_id,
            project_id=principal.project_id,
            team_id=principal.team_id,
            requested_model=requested,
            served_model=route.id,
            provider=route.provider.id,
            served_mode="fresh",
            usage_source=usage.source,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cached_prompt_tokens=usage.cached_prompt_tokens,
            price=billing_pb2.Price(
                version=route.price_version,
                input_per_mtok_usd=str(route.input_per_mtok),
                cached_input_per_mtok_usd=str(route.cached_input_per_mtok or ""),
                output_per_mtok_usd=str(route.output_per_mtok),
            ),
            latency_ms=latency_ms,
            status="ok",
            tags={**principal.tags, **request.tags},
            credential_source=credential.source,
            route_reason="requested model",
            created_unix_ms=int(time.time() * 1000),
        ))
        if settled is not None and settled.list_cost_nano_usd != list_cost:
            log.error("billing priced differently", extra={"fields": {"request_id": request_id}})
        facts = router_pb2.ReceiptFacts(
            request_id=request_id,
            receipt_id=settled.id if settled is not None else receipt_id,
            served_mode=router_pb2.SERVED_MODE_FRESH,
            usage_source=_USAGE_SOURCE[usage.source],
            provider=route.provider.id,
            requested_model=requested,
            served_model=route.id,
            list_cost_nano_usd=list_cost,
            discount_nano_usd=0,
            charged_cost_nano_usd=list_cost,
            usage=router_pb2.TokenUsage(
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                cached_prompt_tokens=usage.cached_prompt_tokens,
                reasoning_tokens=usage.reasoning_tokens,
            ),
            price_version=route.price_version,
            route_reason="requested model",
            attempts=[attempt],
        )
        response = result.response
        response["nextmodel"] = nextmodel_object(facts)
        return ChatOutcome(body_json=orjson.dumps(response), receipt=facts)


_USAGE_SOURCE = {
    "upstream": router_pb2.USAGE_SOURCE_UPSTREAM,
    "estimated": router_pb2.USAGE_SOURCE_ESTIMATED,
    "replayed": router_pb2.USAGE_SOURCE_REPLAYED,
}
SERVED_MODE_NAMES = {router_pb2.SERVED_MODE_FRESH: "fresh", router_pb2.SERVED_MODE_EXACT_CACHE: "exact_cache"}
USAGE_SOURCE_NAMES = {value: name for name, value in _USAGE_SOURCE.items()}


def nextmodel_object(facts: router_pb2.ReceiptFacts) -> dict:
    """The `nextmodel` object added to the response body (or the last stream chunk)."""
    return {
        "request_id": facts.request_id,
        "served_mode": SERVED_MODE_NAMES.get(facts.served_mode, "fresh"),
        "usage_source": USAGE_SOURCE_NAMES.get(facts.usage_source, "upstream"),
        "provider": facts.provider,
        "requested_model": facts.requested_model,
        "served_model": facts.served_model,
        "receipt_id": facts.receipt_id,
        "receipt_url": f"/v1/receipts/{facts.receipt_id}",
        "price_version": facts.price_version,
        "list_cost_usd": money.usd(facts.list_cost_nano_usd),
        "discount_usd": money.usd(facts.discount_nano_usd),
        "cost_usd": money.usd(facts.charged_cost_nano_usd),
        "route_reason": facts.route_reason,
    }


def upstream_gateway_error(failure: UpstreamError) -> GatewayError:
    """What the caller sees when the provider failed (after fallbacks, once they exist)."""
    if failure.kind == "timeout":
        return GatewayError(504, f"Provider {failure.provider} did not answer in time. Retry the request.",
                            code="upstream_timeout", type="server_error")
    if failure.status == 429:
        return GatewayError(429, f"Provider {failure.provider} is rate limiting requests. Retry later.",
                            code="upstream_rate_limited", retry_after_seconds=failure.retry_after or 1)
    if failure.status in (400, 404, 413, 422):
        return GatewayError(400, f"Provider {failure.provider} rejected the request: {failure.message}",
                            code="upstream_rejected")
    return GatewayError(502, f"Provider {failure.provider} failed: {failure.message}. Retry the request.",
                        code="upstream_error", type="server_error")
