"""POST /v1/quote (what a request would cost on each candidate), POST /v1/compare (run it on
several models side by side), and the catalog's admin routes (prices, policies)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, TypeAlias

import orjson
from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from nextmodel.catalog.v1 import catalog_pb2
from nextmodel.common.v1 import common_pb2
from nextmodel.router.v1 import router_pb2
from nextmodel_common import enums, limits, money
from nextmodel_common.errors import GatewayError
from nextmodel_edge.deps import AuthDep, SettingsDep, UpstreamsDep

router = APIRouter()
CatalogModelId: TypeAlias = limits.CatalogModelText
PolicyName: TypeAlias = limits.PolicyText


class QuoteIn(BaseModel):
    model_config = ConfigDict(extra="allow")  # a chat body may be given inline

    models: list[str] = Field(default_factory=list, max_length=100)
    policy: limits.PolicyOrEmptyText = ""
    prompt_tokens: int = Field(0, ge=0, le=100_000_000)
    completion_tokens: int = Field(0, ge=0, le=100_000_000)
    currency: str = Field("USD", pattern="^(USD|SAR)$")
    request: dict[str, Any] | None = None


class CompareIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    models: list[str] = Field(min_length=1, max_length=8)
    request: dict[str, Any] | None = None
    currency: str = Field("USD", pattern="^(USD|SAR)$")


def _amount(nano: int, name: str, currency: str) -> dict:
    body = {f"{name}_usd": money.usd(nano)}
    if currency == "SAR":
        body[f"{name}_sar"] = money.sar(nano)
    return body


def _json(value, param: str) -> bytes:
    """JSON for the router; numbers JSON cannot carry between services (beyond 64 bits) are refused."""
    try:
        return orjson.dumps(value)
    except (TypeError, orjson.JSONEncodeError):
        raise GatewayError(400, f"'{param}' holds a number outside the 64-bit range or a value JSON cannot carry.",
                           param=param, code="invalid_value") from None


def _chat_body(payload: QuoteIn | CompareIn) -> bytes:
    """The chat request: `request`, or the chat fields given inline."""
    if payload.request is not None:
        return _json(payload.request, "request")
    return _json(payload.model_extra, "request") if payload.model_extra else b""


@router.post("/v1/quote")
async def quote(body: QuoteIn, upstreams: UpstreamsDep, auth: AuthDep, settings: SettingsDep) -> Response:
    request = router_pb2.QuoteRequest(body_json=_chat_body(body), prompt_tokens=body.prompt_tokens,
                                      completion_tokens=body.completion_tokens, models=body.models,
                                      policy=body.policy)
    answer = await upstreams.router.Quote(request, metadata=auth, timeout=settings.internal_timeout)
    return Response(orjson.dumps({
        "object": "nextmodel.quote", "prompt_tokens": answer.prompt_tokens,
        "completion_tokens": answer.completion_tokens, "needs": list(answer.needs), "currency": body.currency,
        "cache_discount_percent": str(Decimal(answer.cache_discount_bps) / 100),
        "data": [{
            "model": c.model, "provider": c.provider, "region": c.region, "fits": c.fits, "unmet": list(c.unmet),
            **_amount(c.fresh_cost_nano_usd, "fresh_cost", body.currency),
            **_amount(c.exact_cache_cost_nano_usd, "exact_cache_cost", body.currency),
            "fresh_cost_nano_usd": c.fresh_cost_nano_usd, "exact_cache_cost_nano_usd": c.exact_cache_cost_nano_usd,
            "latency_p50_ms": c.latency_p50_ms or None, "latency_p95_ms": c.latency_p95_ms or None,
            "context_window": c.context_window, "price_version": c.price_version,
        } for c in answer.candidates],
    }), media_type="application/json")


@router.post("/v1/compare")
async def compare(body: CompareIn, upstreams: UpstreamsDep, auth: AuthDep, settings: SettingsDep) -> Response:
    chat = _chat_body(body)
    if not chat:
        raise GatewayError(400, "Give the chat request to compare as 'request' (or its fields inline).",
                           param="request", code="missing_required_parameter")
    answer = await upstreams.router.Compare(router_pb2.CompareRequest(body_json=chat, models=body.models),
                                            metadata=auth, timeout=settings.chat_timeout)
    results = []
    for result in answer.results:
        if result.HasField("error"):
            error = GatewayError.from_proto(result.error)
            results.append({"model": result.model, "ok": False, "latency_ms": result.latency_ms,
                            **error.to_openai()})
            continue
        facts = result.receipt
        results.append({
            "model": result.model, "ok": True, "latency_ms": result.latency_ms,
            "served_model": facts.served_model, "provider": facts.provider,
            "served_mode": enums.name(common_pb2.ServedMode, facts.served_mode) or "fresh",
            "receipt_id": facts.receipt_id,
            "usage": {"prompt_tokens": facts.usage.prompt_tokens, "completion_tokens": facts.usage.completion_tokens},
            **_amount(facts.charged_cost_nano_usd, "cost", body.currency),
            "completion": orjson.loads(result.body_json),
        })
    return Response(orjson.dumps({"object": "nextmodel.compare", "results": results}),
                    media_type="application/json")


class PriceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: Decimal = Field(ge=0, max_digits=18, decimal_places=9)
    output: Decimal = Field(ge=0, max_digits=18, decimal_places=9)
    cached_input: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=9)
    source: str = Field(min_length=1, max_length=1000)
    effective_date: date | None = None


def _price_out(price: catalog_pb2.Price) -> dict:
    return {"version": price.version, "currency": "USD", "unit": "1M tokens", "input": price.input_per_mtok_usd,
            "cached_input": price.cached_input_per_mtok_usd or None, "output": price.output_per_mtok_usd,
            "source": price.source, "effective_date": price.effective_date}


@router.put("/admin/v1/models/{model_id}/price")
async def set_price(model_id: CatalogModelId, body: PriceIn, upstreams: UpstreamsDep, auth: AuthDep,
                    settings: SettingsDep) -> Response:
    request = catalog_pb2.SetPriceRequest(
        model_id=model_id, input_per_mtok_usd=str(body.input), output_per_mtok_usd=str(body.output),
        cached_input_per_mtok_usd=str(body.cached_input) if body.cached_input is not None else "",
        source=body.source, effective_date=body.effective_date.isoformat() if body.effective_date else "")
    model = await upstreams.catalog_admin.SetPrice(request, metadata=auth, timeout=settings.internal_timeout)
    return Response(orjson.dumps({"object": "model", "id": model.id, "pricing": _price_out(model.price)}),
                    media_type="application/json")


@router.get("/admin/v1/models/{model_id}/prices")
async def price_versions(model_id: CatalogModelId, upstreams: UpstreamsDep, auth: AuthDep,
                         settings: SettingsDep) -> Response:
    answer = await upstreams.catalog_admin.ListPriceVersions(
        catalog_pb2.ListPriceVersionsRequest(model_id=model_id), metadata=auth, timeout=settings.internal_timeout)
    return Response(orjson.dumps({"object": "list", "data": [_price_out(p) for p in answer.prices]}),
                    media_type="application/json")


@router.put("/admin/v1/policies/{name}")
async def put_policy(name: PolicyName, body: dict[str, Any], upstreams: UpstreamsDep, auth: AuthDep,
                     settings: SettingsDep) -> Response:
    policy = await upstreams.catalog_admin.PutPolicy(catalog_pb2.Policy(name=name, spec_json=_json(body, "policy")),
                                                     metadata=auth, timeout=settings.internal_timeout)
    return Response(orjson.dumps({"object": "policy", **orjson.loads(policy.spec_json)}),
                    media_type="application/json")


@router.delete("/admin/v1/policies/{name}")
async def delete_policy(name: PolicyName, upstreams: UpstreamsDep, auth: AuthDep, settings: SettingsDep) -> Response:
    await upstreams.catalog_admin.DeletePolicy(catalog_pb2.DeletePolicyRequest(name=name), metadata=auth,
                                               timeout=settings.internal_timeout)
    return Response(orjson.dumps({"object": "policy", "name": name, "deleted": True}), media_type="application/json")


