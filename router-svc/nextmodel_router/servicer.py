"""gRPC ↔ domain translation for the router. No business rules here."""

from __future__ import annotations

import logging

import grpc
import orjson

from nextmodel.billing.v1 import admin_pb2, admin_pb2_grpc
from nextmodel.router.v1 import router_pb2, router_pb2_grpc
from nextmodel_common import limits
from nextmodel_common.errors import GatewayError
from nextmodel_common.interceptors import current_principal
from nextmodel_router import observe
from nextmodel_router.auth import KeyAuthenticator
from nextmodel_router.catalog_copy import CatalogCopy
from nextmodel_router.chat import ChatFlow
from nextmodel_router.chat.text_completions import TEXT_COMPLETION, read_completion_request
from nextmodel_router.clients import BillingClient, CacheClient
from nextmodel_router.credentials import Credentials

log = logging.getLogger(__name__)

INTERNAL_ERROR = GatewayError(500, "The gateway failed to process the request. Retry it; if it keeps failing, "
                                   "contact the operator with the x-request-id.", code="internal_error")


def _authorization(context: grpc.aio.ServicerContext) -> str | None:
    for key, value in context.invocation_metadata() or ():
        if key == "authorization":
            return value
    return None


def _check_limits(request: router_pb2.ChatRequest) -> None:
    limits.check_request_facts(request_id=request.request_id, model=request.model, policy=request.policy,
                               tags=request.tags)


class RouterServicer(router_pb2_grpc.RouterServiceServicer):
    def __init__(self, auth: KeyAuthenticator, flow: ChatFlow, catalog: CatalogCopy, cache: CacheClient,
                 billing: BillingClient, usage: admin_pb2_grpc.UsageServiceStub, timeout: float,
                 credentials: Credentials | None = None) -> None:
        self.auth = auth
        self.flow = flow
        self.catalog = catalog
        self.cache = cache
        self.billing = billing
        self.usage = usage
        self.timeout = timeout
        self.credentials = credentials

    # The caller's principal comes from the Authenticate interceptor (server.py); a GatewayError
    # raised here becomes the call's status there, and any other failure an internal error.

    async def ChatCompletion(self, request, context):
        _check_limits(request)
        if request.surface == router_pb2.SURFACE_COMPLETIONS:
            body_json, receipt = await self.flow.answer(current_principal.get(), read_completion_request(request),
                                                        TEXT_COMPLETION)
        else:
            body_json, receipt = await self.flow.complete(current_principal.get(), request)
        return router_pb2.ChatResponse(body_json=body_json, receipt=receipt)

    async def StreamChatCompletion(self, request, context):
        _check_limits(request)
        if request.surface == router_pb2.SURFACE_COMPLETIONS:
            events = self.flow.answer_stream(current_principal.get(), read_completion_request(request),
                                             TEXT_COMPLETION)
        else:
            events = self.flow.stream(current_principal.get(), request)
        try:
            yield await anext(events)  # a failure before the first event is the call's status
            try:
                async for event in events:
                    yield event
            except Exception:
                # After the first byte an error is an event of the stream, not a broken connection.
                log.exception("stream failed", extra={"fields": {"request_id": request.request_id}})
                yield router_pb2.ChatStreamEvent(error=INTERNAL_ERROR.to_proto())
        finally:
            await events.aclose()  # unwinds the flow now (it settles what a cancelled stream produced)

    async def ListModels(self, request, context):
        principal = current_principal.get()
        view = self.catalog.view
        if view is None:
            raise GatewayError(503, "The model catalog is not loaded yet. Retry in a few seconds.",
                               code="catalog_unavailable", retry_after_seconds=2)
        allowed = set(principal.allowed_models)
        return router_pb2.ListModelsResponse(models=[
            router_pb2.ModelInfo(
                id=route.id,
                provider=route.provider.id,
                created=route.proto.created,
                shutdown_date=route.proto.shutdown_date,
                details_json=orjson.dumps({**_model_details(route.proto),
                                           "available": self._available(route, principal)}),
            )
            for route in view.models.values()
            if not allowed or route.id in allowed
        ])

    def _available(self, route, principal) -> bool:
        """Whether this caller can be served by the model now: its provider has a key for it."""
        return self.credentials is None or self.credentials.configured(route.provider, principal)

    async def GetReceipt(self, request, context):
        return await self.billing.get_receipt(request.receipt_id, current_principal.get().project_id)

    async def Quote(self, request, context):
        return self.flow.quote(current_principal.get(), request)

    async def Compare(self, request, context):
        return await self.flow.compare(current_principal.get(), request)

    async def GetCacheStats(self, request, context):
        """The cache's counters for the caller's project, and what its hits saved from the ledger."""
        principal = current_principal.get()
        stats = await self.cache.stats(principal.project_id, principal.cache_namespace or principal.project_id)
        answer = router_pb2.CacheStatsResponse(project_id=principal.project_id)
        if stats is not None:
            answer.hits, answer.misses = stats.hits, stats.misses
            answer.entries, answer.bytes, answer.coalesced = stats.entries, stats.bytes, stats.coalesced
        try:
            saved = await self.usage.GetUsage(admin_pb2.UsageQuery(served_mode="exact_cache"),
                                              metadata=(("authorization", _authorization(context) or ""),),
                                              timeout=self.timeout)
            answer.saved_nano_usd = saved.total.discount_nano_usd
            answer.hit_receipts = saved.total.requests
        except grpc.aio.AioRpcError as failure:
            log.warning("cache savings unavailable", extra={"fields": {"code": failure.code().name}})
        return answer


def refused(request, error: GatewayError) -> None:
    """Every refusal counts in the router's metrics, by code and requested model."""
    observe.refused(error.code, getattr(request, "model", ""))


def _model_details(model) -> dict:
    caps = model.capabilities
    return {
        "aliases": list(model.aliases),
        "region": model.region,
        "context_window": model.context_window,
        "max_output_tokens": model.max_output_tokens,
        "pricing": {
            "currency": "USD",
            "unit": "1M tokens",
            "input": model.price.input_per_mtok_usd,
            "cached_input": model.price.cached_input_per_mtok_usd or None,
            "output": model.price.output_per_mtok_usd,
            "version": model.price.version,
            "source": model.price.source,
            "effective_date": model.price.effective_date,
        },
        "capabilities": {
            "tools": caps.tools, "vision": caps.vision, "json_schema": caps.json_schema,
            "streaming": caps.streaming, "reasoning": caps.reasoning,
        },
        "latency": {
            "ttft_p50_ms": model.latency.ttft_p50_ms, "ttft_p95_ms": model.latency.ttft_p95_ms,
            "total_p50_ms": model.latency.total_p50_ms, "total_p95_ms": model.latency.total_p95_ms,
            "error_rate": model.latency.error_rate, "samples": model.latency.samples,
        } if model.latency.samples else None,
    }
