"""GET /v1/receipts/{id}: a receipt of the caller's own project (any project for the admin key)."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Query
from fastapi.responses import Response

from nextmodel.billing.v1 import billing_pb2
from nextmodel_common import money
from nextmodel_edge.deps import AuthDep, SettingsDep, UpstreamsDep

router = APIRouter()

AMOUNTS = ("list_cost", "discount", "charged_cost")


def canonical_receipt(receipt: billing_pb2.Receipt) -> dict:
    """The signed fields, named as billing signs them; `nextmodel receipts verify` checks exactly these."""
    return {
        "id": receipt.id, "request_id": receipt.request_id, "created_unix_ms": receipt.created_unix_ms,
        "key_id": receipt.key_id, "project_id": receipt.project_id, "team_id": receipt.team_id,
        "requested_model": receipt.requested_model, "served_model": receipt.served_model,
        "provider": receipt.provider, "served_mode": receipt.served_mode, "usage_source": receipt.usage_source,
        "prompt_tokens": receipt.prompt_tokens, "completion_tokens": receipt.completion_tokens,
        "cached_prompt_tokens": receipt.cached_prompt_tokens,
        "price": {"version": receipt.price.version, "input_per_mtok_usd": receipt.price.input_per_mtok_usd,
                  "cached_input_per_mtok_usd": receipt.price.cached_input_per_mtok_usd,
                  "output_per_mtok_usd": receipt.price.output_per_mtok_usd},
        "list_cost_nano_usd": receipt.list_cost_nano_usd, "discount_nano_usd": receipt.discount_nano_usd,
        "charged_cost_nano_usd": receipt.charged_cost_nano_usd, "latency_ms": receipt.latency_ms,
        "status": receipt.status, "tags": dict(receipt.tags), "replayed_receipt_id": receipt.replayed_receipt_id,
        "credential_source": receipt.credential_source, "route_reason": receipt.route_reason,
        "attempts": [{"provider": a.provider, "model": a.model, "outcome": a.outcome, "latency_ms": a.latency_ms}
                     for a in receipt.attempts],
        "signature": receipt.signature,
    }


def receipt_object(receipt: billing_pb2.Receipt, currency: str) -> dict:
    body = {"object": "nextmodel.receipt", **canonical_receipt(receipt)}
    for name in AMOUNTS:
        body[f"{name}_usd"] = money.usd(getattr(receipt, f"{name}_nano_usd"))
        if currency == "SAR":
            body[f"{name}_sar"] = money.sar(getattr(receipt, f"{name}_nano_usd"))
    body["saving_usd"] = body["discount_usd"]
    return body


@router.get("/v1/receipts/{receipt_id}")
async def get_receipt(receipt_id: str, upstreams: UpstreamsDep, auth: AuthDep, settings: SettingsDep,
                      currency: str = Query("USD", pattern="^(USD|SAR)$")) -> Response:
    receipt = await upstreams.usage.GetReceipt(billing_pb2.GetReceiptRequest(receipt_id=receipt_id),
                                               metadata=auth, timeout=settings.internal_timeout)
    return Response(orjson.dumps(receipt_object(receipt, currency)), media_type="application/json")
