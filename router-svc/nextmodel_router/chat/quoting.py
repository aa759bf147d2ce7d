"""Quote: what a request would cost on each candidate, Fresh and as an exact-cache hit; no call,
no charge."""

from __future__ import annotations

import orjson

from nextmodel.billing.v1 import billing_pb2
from nextmodel.router.v1 import router_pb2
from nextmodel_common import money
from nextmodel_common.errors import GatewayError
from nextmodel_router import policy
from nextmodel_router import usage as usage_mod
from nextmodel_router.catalog_copy import CatalogView, ModelRoute
from nextmodel_router.chat.planning import Planner, suggest
from nextmodel_router.chat.request import parse_body

QUOTE_TOKEN_LIMIT = 1_000_000_000


def quote(planner: Planner, principal: billing_pb2.Principal,
          request: router_pb2.QuoteRequest) -> router_pb2.QuoteResponse:
    view = planner.view()
    body = _body(request.body_json)
    if request.prompt_tokens > QUOTE_TOKEN_LIMIT or request.completion_tokens > QUOTE_TOKEN_LIMIT:
        raise GatewayError(400, f"Token counts above {QUOTE_TOKEN_LIMIT:,} cannot be quoted.",
                           param="prompt_tokens", code="invalid_value")
    prompt = request.prompt_tokens or usage_mod.estimate_tokens(orjson.dumps(body.get("messages", [])).decode())
    needs = policy.needs_of(body, prompt)
    completion = request.completion_tokens or needs.completion_tokens or policy.DEFAULT_COMPLETION_ESTIMATE
    routes = _routes(view, request)
    if principal.allowed_models:
        routes = [r for r in routes if r.id in principal.allowed_models]
    answer = router_pb2.QuoteResponse(prompt_tokens=prompt, completion_tokens=completion,
                                      cache_discount_bps=principal.cache_discount_bps, needs=needs.names())
    quoted = []
    for route in routes:
        fresh = money.request_cost_nano(prompt_tokens=prompt, completion_tokens=completion, cached_prompt_tokens=0,
                                        input_per_mtok=route.input_per_mtok, cached_input_per_mtok=None,
                                        output_per_mtok=route.output_per_mtok)
        missing = policy.unmet(route, policy.Needs(**{**needs.__dict__, "completion_tokens": completion}))
        quoted.append(router_pb2.QuoteCandidate(
            model=route.id, provider=route.provider.id, region=route.proto.region, fresh_cost_nano_usd=fresh,
            exact_cache_cost_nano_usd=fresh - money.discount_nano(fresh, principal.cache_discount_bps),
            latency_p50_ms=route.proto.latency.total_p50_ms, latency_p95_ms=route.proto.latency.total_p95_ms,
            fits=not missing, unmet=missing, price_version=route.price_version,
            context_window=route.proto.context_window))
    quoted.sort(key=lambda c: (not c.fits, c.fresh_cost_nano_usd, c.model))
    answer.candidates.extend(quoted)
    return answer


def _body(body_json: bytes) -> dict:
    """The optional chat body: the same field checks as a chat request, but a quote needs no model
    and may have no messages."""
    if not body_json:
        return {}
    try:
        body = orjson.loads(body_json)
    except orjson.JSONDecodeError:
        raise GatewayError(400, "The request body is not valid JSON.", code="invalid_json") from None
    if not isinstance(body, dict):
        raise GatewayError(400, "'request' must be a chat completion body.", param="request",
                           code="invalid_type")
    parse_body(orjson.dumps({"model": "quote", "messages": [{"role": "user", "content": ""}], **body}))
    return body


def _routes(view: CatalogView, request: router_pb2.QuoteRequest) -> list[ModelRoute]:
    """The models to quote: those named, else the policy's candidates, else the whole catalog."""
    if request.models:
        routes = []
        for name in request.models:
            route = view.resolve(name)
            if route is None:
                raise GatewayError(404, f"The model {name!r} does not exist.{suggest(name, view.by_name)}",
                                   param="models", code="model_not_found")
            routes.append(route)
        return routes
    if request.policy:
        selected = view.policies.get(request.policy)
        if selected is None:
            raise GatewayError(404, f"The routing policy {request.policy!r} does not exist."
                                    f"{suggest(request.policy, view.policies)}", param="policy",
                               code="policy_not_found")
        return list(selected.candidates) or list(view.models.values())
    return list(view.models.values())
