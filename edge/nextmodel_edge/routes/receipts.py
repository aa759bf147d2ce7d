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


def receipt_object(receipt: billing_pb2.Receipt, currency: str) -> dict:
    # The signed form comes from billing as it signed it; the edge only adds readable amounts.
    body = {"object": "nextmodel.receipt", **orjson.loads(receipt.signed_json)}
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
