"""gRPC ↔ domain translation for billing. No business rules here."""

from __future__ import annotations

import logging
from dataclasses import asdict

import grpc

from nextmodel.billing.v1 import billing_pb2, billing_pb2_grpc
from nextmodel_billing.domain import PriceApplied, Receipt, Usage
from nextmodel_billing.service import AuthError, BillingService

log = logging.getLogger(__name__)


def receipt_to_proto(receipt: Receipt) -> billing_pb2.Receipt:
    fields = asdict(receipt)
    fields["price"] = billing_pb2.Price(**fields["price"])
    return billing_pb2.Receipt(**fields)


def usage_from_proto(request: billing_pb2.SettleRequest) -> Usage:
    return Usage(
        request_id=request.request_id,
        receipt_id=request.receipt_id,
        key_id=request.key_id,
        project_id=request.project_id,
        team_id=request.team_id,
        requested_model=request.requested_model,
        served_model=request.served_model,
        provider=request.provider,
        served_mode=request.served_mode,
        usage_source=request.usage_source,
        prompt_tokens=request.prompt_tokens,
        completion_tokens=request.completion_tokens,
        cached_prompt_tokens=request.cached_prompt_tokens,
        price=PriceApplied(
            version=request.price.version,
            input_per_mtok_usd=request.price.input_per_mtok_usd,
            cached_input_per_mtok_usd=request.price.cached_input_per_mtok_usd,
            output_per_mtok_usd=request.price.output_per_mtok_usd,
        ),
        discount_bps=request.discount_bps,
        latency_ms=request.latency_ms,
        status=request.status or "ok",
        created_unix_ms=request.created_unix_ms,
        tags=dict(request.tags),
        replayed_receipt_id=request.replayed_receipt_id,
        credential_source=request.credential_source or "platform",
        route_reason=request.route_reason,
    )


class BillingServicer(billing_pb2_grpc.BillingServiceServicer):
    def __init__(self, service: BillingService, auth_cache_ttl_seconds: int) -> None:
        self.service = service
        self.auth_cache_ttl_seconds = auth_cache_ttl_seconds

    async def AuthenticateKey(self, request, context):
        try:
            principal = await self.service.authenticate(request.api_key)
        except AuthError as refused:
            log.info("key refused", extra={"fields": {"reason": str(refused)}})
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "invalid API key")
        return billing_pb2.Principal(
            key_id=principal.key_id,
            key_prefix=principal.key_prefix,
            project_id=principal.project_id,
            team_id=principal.team_id,
            allowed_models=principal.allowed_models,
            default_policy=principal.default_policy,
            tags=principal.tags,
            cache_ttl_seconds=self.auth_cache_ttl_seconds,
            cache_namespace=principal.project_id,
            # Project cache settings arrive with the exact cache; until then: on, project-scoped.
            cache_enabled=True,
        )

    async def Settle(self, request, context):
        if not (request.request_id and request.receipt_id and request.project_id):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "request_id, receipt_id and project_id are required")
        return receipt_to_proto(await self.service.settle(usage_from_proto(request)))

    async def GetReceipt(self, request, context):
        receipt = await self.service.receipt(request.receipt_id, request.project_id or None)
        if receipt is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no receipt {request.receipt_id}")
        return receipt_to_proto(receipt)

    async def ListReceipts(self, request, context):
        if not request.project_id:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "project_id is required")
        found = await self.service.receipts(request.project_id, limit=request.limit or 100, after_id=request.after_id)
        return billing_pb2.ListReceiptsResponse(receipts=[receipt_to_proto(r) for r in found])
