"""GET /v1/receipts/{id}: a receipt of the caller's own project."""

from __future__ import annotations

import grpc
import orjson
from fastapi import APIRouter, Query
from fastapi.responses import Response

from nextmodel.billing.v1 import billing_pb2
from nextmodel.router.v1 import router_pb2
from nextmodel_common import money
from nextmodel_edge.deps import AuthDep, SettingsDep, UpstreamsDep
from nextmodel_edge.errors import rpc_error_response

router = APIRouter()


def receipt_object(receipt: billing_pb2.Receipt, currency: str) -> dict:
    amounts = {
        "list_cost": receipt.list_cost_nano_usd,
        "discount": receipt.discount_nano_usd,
        "charged_cost": receipt.charged_cost_nano_usd,
    }
    rendered = {f"{name}_usd": money.usd(nano) for name, nano in amounts.items()}
    if currency == "SAR":
        rendered |= {f"{name}_sar": money.sar(nano) for name, nano in amounts.items()}
    return {
        "object": "nextmodel.receipt",
        "id": receipt.id,
        "request_id": receipt.request_id,
        "created_unix_ms": receipt.created_unix_ms,
        "key_id": receipt.key_id,
        "project_id": receipt.project_id,
        "team_id": receipt.team_id,
        "requested_model": receipt.requested_model,
        "served_model": receipt.served_model,
        "provider": receipt.provider,
        "served_mode": receipt.served_mode,
        "usage_source": receipt.usage_source,
        "usage": {
            "prompt_tokens": receipt.prompt_tokens,
            "completion_tokens": receipt.completion_tokens,
            "cached_prompt_tokens": receipt.cached_prompt_tokens,
        },
        "price": {
            "version": receipt.price.version,
            "currency": "USD",
            "unit": "1M tokens",
            "input": receipt.price.input_per_mtok_usd,
            "cached_input": receipt.price.cached_input_per_mtok_usd or None,
            "output": receipt.price.output_per_mtok_usd,
        },
        **rendered,
        "list_cost_nano_usd": receipt.list_cost_nano_usd,
        "discount_nano_usd": receipt.discount_nano_usd,
        "charged_cost_nano_usd": receipt.charged_cost_nano_usd,
        "latency_ms": receipt.latency_ms,
        "status": receipt.status,
        "tags": dict(receipt.tags),
        "replayed_receipt_id": receipt.replayed_receipt_id or None,
        "credential_source": receipt.credential_source,
        "route_reason": receipt.route_reason,
        "signature": receipt.signature,
    }


@router.get("/v1/receipts/{receipt_id}")
async def get_receipt(receipt_id: str, upstreams: UpstreamsDep, auth: AuthDep, settings: SettingsDep,
                      currency: str = Query("USD", pattern="^(USD|SAR)$")) -> Response:
    try:
        receipt = await upstreams.router.GetReceipt(router_pb2.GetReceiptRequest(receipt_id=receipt_id),
                                                    metadata=auth, timeout=settings.internal_timeout)
    except grpc.aio.AioRpcError as failure:
        return rpc_error_response(failure)
    return Response(orjson.dumps(receipt_object(receipt, currency)), media_type="application/json")
