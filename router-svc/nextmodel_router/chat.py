"""The chat-completion flow: validate, plan the route, look up the cache, call the provider
(falling back to the next candidate on a retryable failure), settle, and answer.

This is the product's request path. It knows the rules of the business; the servicer
only translates gRPC to these calls and back.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import orjson
from opentelemetry import context as otel_context
from opentelemetry import trace

from nextmodel.billing.v1 import billing_pb2
from nextmodel.cache.v1 import cache_pb2
from nextmodel.router.v1 import router_pb2
from nextmodel_common import ids, money
from nextmodel_common.errors import GatewayError
from nextmodel_router import caching, observe, policy
from nextmodel_router import usage as usage_mod
from nextmodel_router.adapters import Adapter, ProviderCall, Unsupported, UpstreamError
from nextmodel_router.catalog_copy import CatalogCopy, ModelRoute
from nextmodel_router.clients import BillingClient, CacheClient, LatencyReporter
from nextmodel_router.credentials import Credentials
from nextmodel_router.ratelimit import RateLimiter
from nextmodel_router.streaming import StreamAccumulator, openai_usage

log = logging.getLogger(__name__)

POLICY_PREFIX = "nextmodel/"
QUOTE_TOKEN_LIMIT = 1_000_000_000
# How often an open stream refreshes what it would settle were the router killed (outbox.py).
STREAM_CHECKPOINT_SECONDS = 5.0


def parse_body(body_json: bytes) -> dict:
    """The chat body as a dict, with the type (and range) of every field the gateway or a provider
    reads checked first: a body that would trip the router or that a provider would refuse is a 400
    naming the field, before any reservation, upstream call or receipt. Unknown fields pass."""
    max_depth = 64  # orjson reads 1024 levels but writes 254; tool and output schemas need far fewer
    max_output_tokens = 10_000_000  # above any model's output; the route's own cap applies after this
    roles = ("system", "developer", "user", "assistant", "tool", "function")

    def refuse(param: str | None, message: str, code: str = "invalid_type") -> GatewayError:
        return GatewayError(400, message, param=param, code=code)

    def number(value) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool)

    def integer(value) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    def optional(container: dict, name: str, kind, label: str, param: str) -> None:
        value = container.get(name)
        if value is not None and not isinstance(value, kind):
            raise refuse(param, f"'{param}' must be {label}.")

    try:
        body = orjson.loads(body_json)
    except orjson.JSONDecodeError as failure:
        message = ("The request body is not valid UTF-8." if "UTF-8" in str(failure)
                   else "The request body is not valid JSON.")
        raise GatewayError(400, message, code="invalid_json") from None
    if not isinstance(body, dict):
        raise GatewayError(400, "The request body must be a JSON object.", code="invalid_json")
    if body_json.count(b"{") + body_json.count(b"[") > max_depth:  # cheap bound: deep only if this is large
        pending = [(body, 1)]
        while pending:
            value, depth = pending.pop()
            if depth > max_depth:
                raise GatewayError(400, f"The request body nests objects and arrays deeper than {max_depth} levels.",
                                   code="invalid_json")
            children = value.values() if isinstance(value, dict) else value
            pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))

    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise GatewayError(400, "'model' is required: the id of a model from GET /v1/models.", param="model",
                           code="missing_required_parameter" if model is None else "invalid_type")
    if len(model) > 256:
        raise refuse("model", "'model' must be at most 256 characters: the id of a model from GET /v1/models.",
                     "invalid_value")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise GatewayError(400, "'messages' is required and must be a non-empty array of messages.",
                           param="messages",
                           code="missing_required_parameter" if messages is None else "invalid_type")
    for index, message in enumerate(messages):
        at = f"messages[{index}]"
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise GatewayError(400, f"{at} must be an object with a 'role'.", param=at, code="invalid_type")
        if message["role"] not in roles:
            raise refuse(f"{at}.role", f"'{at}.role' must be one of {', '.join(roles)}.", "invalid_value")
        content = message.get("content")
        if isinstance(content, list):
            for position, part in enumerate(content):
                where = f"{at}.content[{position}]"
                if not isinstance(part, dict) or not isinstance(part.get("type"), str):
                    raise refuse(where, f"'{where}' must be an object with a string 'type'.")
                if part["type"] == "text" and not isinstance(part.get("text"), str):
                    raise refuse(f"{where}.text", f"'{where}.text' must be a string.")
                if part["type"] == "image_url" and not (isinstance(part.get("image_url"), dict)
                                                        and isinstance(part["image_url"].get("url"), str)):
                    raise refuse(f"{where}.image_url", f"'{where}.image_url' must be an object with a string 'url'.")
        elif content is not None and not isinstance(content, str):
            raise refuse(f"{at}.content", f"'{at}.content' must be a string, an array of content parts, or null.")
        for name in ("name", "tool_call_id"):
            optional(message, name, str, "a string", f"{at}.{name}")
        tool_calls = message.get("tool_calls")
        if tool_calls is not None:
            if not isinstance(tool_calls, list):
                raise refuse(f"{at}.tool_calls", f"'{at}.tool_calls' must be an array.")
            for position, call in enumerate(tool_calls):
                where = f"{at}.tool_calls[{position}]"
                if not isinstance(call, dict):
                    raise refuse(where, f"'{where}' must be an object.")
                optional(call, "id", str, "a string", f"{where}.id")
                function = call.get("function")
                if function is not None:
                    if not isinstance(function, dict):
                        raise refuse(f"{where}.function", f"'{where}.function' must be an object.")
                    optional(function, "name", str, "a string", f"{where}.function.name")
                    optional(function, "arguments", str, "a string of JSON", f"{where}.function.arguments")

    for name, low, high in (("temperature", 0, 2), ("top_p", 0, 1), ("frequency_penalty", -2, 2),
                            ("presence_penalty", -2, 2), ("top_k", 0, 1_000_000)):
        value = body.get(name)
        if value is None:
            continue
        if not number(value):
            raise refuse(name, f"'{name}' must be a number.")
        if not low <= value <= high:
            raise refuse(name, f"'{name}' must be between {low} and {high}.", "invalid_value")
    for name, low, high in (("n", 1, 128), ("max_tokens", 1, max_output_tokens),
                            ("max_completion_tokens", 1, max_output_tokens), ("top_logprobs", 0, 20),
                            ("seed", -(2**63), 2**63 - 1)):
        value = body.get(name)
        if value is None:
            continue
        if not integer(value):
            raise refuse(name, f"'{name}' must be an integer." if name != "n" else "'n' must be a positive integer.")
        if not low <= value <= high:
            raise refuse(name, f"'{name}' must be between {low} and {high}.", "invalid_value")
    for name in ("stream", "logprobs", "parallel_tool_calls", "store"):
        optional(body, name, bool, "a boolean", name)
    for name in ("user", "safety_identifier", "reasoning_effort", "service_tier", "prompt_cache_key"):
        optional(body, name, str, "a string", name)
    for name in ("stream_options", "logit_bias", "metadata", "prediction", "audio", "web_search_options"):
        optional(body, name, dict, "an object", name)
    for name in ("modalities", "functions"):
        optional(body, name, list, "an array", name)
    if isinstance(body.get("stream_options"), dict):
        optional(body["stream_options"], "include_usage", bool, "a boolean", "stream_options.include_usage")
    if isinstance(body.get("logit_bias"), dict) and not all(number(v) for v in body["logit_bias"].values()):
        raise refuse("logit_bias", "'logit_bias' must map token ids to numbers.")

    stop = body.get("stop")
    if stop is not None and not isinstance(stop, str) and not (
            isinstance(stop, list) and all(isinstance(item, str) for item in stop)):
        raise refuse("stop", "'stop' must be a string or an array of strings.")
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise refuse("tools", "'tools' must be an array of tools.")
        for index, tool in enumerate(tools):
            at = f"tools[{index}]"
            if not isinstance(tool, dict) or not isinstance(tool.get("type"), str):
                raise refuse(at, f"'{at}' must be an object with a string 'type'.")
            if tool["type"] == "function":
                function = tool.get("function")
                if not isinstance(function, dict) or not isinstance(function.get("name"), str) or not function["name"]:
                    raise refuse(f"{at}.function", f"'{at}.function' must be an object with a 'name'.")
                optional(function, "description", str, "a string", f"{at}.function.description")
                optional(function, "parameters", dict, "an object (a JSON schema)", f"{at}.function.parameters")
                optional(function, "strict", bool, "a boolean", f"{at}.function.strict")
    tool_choice = body.get("tool_choice")
    if tool_choice is not None:
        if isinstance(tool_choice, dict):
            if not isinstance(tool_choice.get("type"), str):
                raise refuse("tool_choice", "'tool_choice' must name its 'type'.")
            if tool_choice["type"] == "function" and not (isinstance(tool_choice.get("function"), dict)
                                                           and isinstance(tool_choice["function"].get("name"), str)):
                raise refuse("tool_choice.function", "'tool_choice.function' must be an object with a 'name'.")
        elif not isinstance(tool_choice, str):
            raise refuse("tool_choice", "'tool_choice' must be a string or an object.")
    function_call = body.get("function_call")
    if function_call is not None and not isinstance(function_call, str | dict):
        raise refuse("function_call", "'function_call' must be a string or an object.")
    response_format = body.get("response_format")
    if response_format is not None:
        if not isinstance(response_format, dict) or not isinstance(response_format.get("type"), str):
            raise refuse("response_format", "'response_format' must be an object with a string 'type'.")
        json_schema = response_format.get("json_schema")
        if response_format["type"] == "json_schema" and json_schema is not None:
            if not isinstance(json_schema, dict):
                raise refuse("response_format.json_schema", "'response_format.json_schema' must be an object.")
            optional(json_schema, "schema", dict, "an object (a JSON schema)", "response_format.json_schema.schema")
    return body


@dataclass
class Plan:
    """What one request will do: its body, what was asked for, and the candidates in order."""

    body: dict
    request_id: str
    requested: str
    candidates: list[ModelRoute]
    reason: str
    tags: dict[str, str]
    attempts: list[router_pb2.Attempt] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    policy: str = ""
    prompt_estimate: int = 0
    cache_status: str = "off"
    cache_slot: str = ""
    cache_leader: bool = False
    reservation_id: str = ""
    reserved_nano_usd: int = 0
    budget_remaining_nano_usd: int | None = None
    settled: bool = False

    @property
    def cache_requested(self) -> str:
        """What the cache key names: the policy when one routes the request, else the model."""
        return f"{POLICY_PREFIX}{self.policy}" if self.policy else self.requested

    @property
    def stream_usage_requested(self) -> bool:
        return bool((self.body.get("stream_options") or {}).get("include_usage"))


class ChatFlow:
    def __init__(self, catalog: CatalogCopy, cache: CacheClient, billing: BillingClient,
                 credentials: Credentials, adapters: dict[str, Adapter], rate_limiter: RateLimiter,
                 coalesce_timeout_ms: int = 15_000,
                 latency: LatencyReporter | None = None) -> None:
        self.catalog = catalog
        self.cache = cache
        self.billing = billing
        self.credentials = credentials
        self.adapters = adapters
        self.rate_limiter = rate_limiter
        self.coalesce_timeout_ms = coalesce_timeout_ms
        self.latency = latency
        self._background: set[asyncio.Task] = set()

    # -- planning -----------------------------------------------------------------

    def resolve(self, requested: str, principal: billing_pb2.Principal) -> ModelRoute:
        view = self._view()
        route = view.resolve(requested)
        if route is None:
            raise GatewayError(404, f"The model {requested!r} does not exist.{_suggest(requested, view.by_name)}",
                               param="model", code="model_not_found")
        if principal.allowed_models and route.id not in principal.allowed_models:
            raise GatewayError(403, f"This API key may not use the model {route.id!r}.", param="model",
                               code="model_not_allowed")
        return route

    def _view(self):
        view = self.catalog.view
        if view is None:
            raise GatewayError(503, "The model catalog is not loaded yet. Retry in a few seconds.",
                               code="catalog_unavailable", retry_after_seconds=2)
        return view

    def plan(self, principal: billing_pb2.Principal, request: router_pb2.ChatRequest) -> Plan:
        body = parse_body(request.body_json)
        requested = body["model"]
        prompt_estimate = usage_mod.estimate_tokens(orjson.dumps(body.get("messages", [])).decode())
        tags = {**principal.tags, **request.tags}
        candidates, reason, policy_name = self._route(principal, requested, request.policy, body, prompt_estimate, tags)
        able, refusals = [], []
        for candidate in candidates:
            adapter = self.adapters.get(candidate.provider.protocol)
            try:
                if adapter is None:
                    raise Unsupported(candidate.provider.id, "model",
                                      f"protocol {candidate.provider.protocol!r} is not available")
                adapter.check(candidate.provider, body)
                able.append(candidate)
            except Unsupported as refusal:
                refusals.append(refusal)
        if not able:
            first = refusals[0]
            raise GatewayError(400, f"Provider {first.provider} cannot honour '{first.param}': {first.reason}. "
                                    "Remove the parameter or choose another model.", param=first.param,
                               code="unsupported_parameter")
        return Plan(body=body, request_id=request.request_id or ids.new_request_id(), requested=requested,
                    candidates=able, reason=reason, tags=tags, policy=policy_name, prompt_estimate=prompt_estimate)

    def _route(self, principal: billing_pb2.Principal, requested: str, policy_header: str, body: dict,
               prompt_estimate: int, tags: dict[str, str]) -> tuple[list[ModelRoute], str, str]:
        """(candidates, reason, policy) for a request.

        Precedence: the x-nextmodel-policy header, then "model": "nextmodel/<policy>"; the model
        "nextmodel/auto" takes the policy its tags select, else the key's default policy; any
        other model name is served by that model.
        """
        view = self._view()
        name = policy_header or (requested[len(POLICY_PREFIX):] if requested.startswith(POLICY_PREFIX) else "")
        if name == "auto":
            chosen = policy.policy_for_tags(view, tags)
            name = chosen.name if chosen else principal.default_policy
            if not name:
                raise GatewayError(400, "'nextmodel/auto' needs a routing policy: give the key a default policy, "
                                        "or tag the request for a policy with match_tags.", param="model",
                                   code="no_policy")
        if not name:
            return [self.resolve(requested, principal)], "requested model", ""
        selected = view.policies.get(name)
        if selected is None:
            raise GatewayError(404, f"The routing policy {name!r} does not exist.{_suggest(name, view.policies)}",
                               param="model", code="policy_not_found")
        remaining = principal.budget_remaining_bps if principal.HasField("budget_remaining_bps") else None
        try:
            route = policy.choose(selected, view, policy.needs_of(body, prompt_estimate),
                                  budget_remaining_bps=remaining)
        except policy.NoCandidate as none_left:
            raise GatewayError(400, str(none_left), param="model", code="no_candidate") from None
        allowed = [c for c in route.candidates if not principal.allowed_models or c.id in principal.allowed_models]
        if not allowed:
            raise GatewayError(403, f"This API key may use none of the models of policy {name!r}.",
                               param="model", code="model_not_allowed")
        return allowed, route.reason, route.policy

    # -- quote and compare ----------------------------------------------------------

    def quote(self, principal: billing_pb2.Principal, request: router_pb2.QuoteRequest) -> router_pb2.QuoteResponse:
        """What a request would cost on each candidate, Fresh and as an exact-cache hit; no call, no charge."""
        view = self._view()
        body: dict = {}
        if request.body_json:
            try:
                body = orjson.loads(request.body_json)
            except orjson.JSONDecodeError:
                raise GatewayError(400, "The request body is not valid JSON.", code="invalid_json") from None
            if not isinstance(body, dict):
                raise GatewayError(400, "'request' must be a chat completion body.", param="request",
                                   code="invalid_type")
            # The same field checks as a chat request; a quote needs no model and may have no messages.
            parse_body(orjson.dumps({"model": "quote", "messages": [{"role": "user", "content": ""}], **body}))
        if request.prompt_tokens > QUOTE_TOKEN_LIMIT or request.completion_tokens > QUOTE_TOKEN_LIMIT:
            raise GatewayError(400, f"Token counts above {QUOTE_TOKEN_LIMIT:,} cannot be quoted.",
                               param="prompt_tokens", code="invalid_value")
        prompt = request.prompt_tokens or usage_mod.estimate_tokens(orjson.dumps(body.get("messages", [])).decode())
        needs = policy.needs_of(body, prompt)
        completion = request.completion_tokens or needs.completion_tokens or policy.DEFAULT_COMPLETION_ESTIMATE
        if request.models:
            routes = []
            for name in request.models:
                route = view.resolve(name)
                if route is None:
                    raise GatewayError(404, f"The model {name!r} does not exist.{_suggest(name, view.by_name)}",
                                       param="models", code="model_not_found")
                routes.append(route)
        elif request.policy:
            selected = view.policies.get(request.policy)
            if selected is None:
                raise GatewayError(404, f"The routing policy {request.policy!r} does not exist."
                                        f"{_suggest(request.policy, view.policies)}", param="policy",
                                   code="policy_not_found")
            routes = list(selected.candidates) or list(view.models.values())
        else:
            routes = list(view.models.values())
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

    async def compare(self, principal: billing_pb2.Principal,
                      request: router_pb2.CompareRequest) -> router_pb2.CompareResponse:
        """The same request on several models at once; each call is billed and receipted as usual."""
        if not request.models or len(request.models) > 8:
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
                body_json, facts = await self.complete(principal, chat)
                return router_pb2.CompareResult(model=model, body_json=body_json, receipt=facts,
                                                latency_ms=int((time.perf_counter() - started) * 1000))
            except GatewayError as error:
                return router_pb2.CompareResult(model=model, error=error.to_proto(),
                                                latency_ms=int((time.perf_counter() - started) * 1000))

        return router_pb2.CompareResponse(results=await asyncio.gather(*(one(m) for m in request.models)))

    # -- cache ----------------------------------------------------------------------

    async def _lookup_cache(self, principal: billing_pb2.Principal, request: router_pb2.ChatRequest,
                            plan: Plan) -> cache_pb2.LookupResponse | None:
        """Ask the exact cache, when the rules allow; sets plan.cache_status either way."""
        decision = caching.decide(principal, request, plan.body)
        plan.cache_status = decision if decision in (caching.OFF, caching.NOT_CACHEABLE) else "miss"
        if decision not in (caching.ON, caching.REFRESH):
            return None
        lookup = await self.cache.lookup(cache_pb2.LookupRequest(
            namespace=principal.cache_namespace or principal.project_id,
            requested=plan.cache_requested,
            body_json=request.body_json,
            skip_read=decision == caching.REFRESH,
            coalesce_timeout_ms=self.coalesce_timeout_ms if decision == caching.ON else 0,
            project_id=principal.project_id,
        ), coalesce_timeout_ms=self.coalesce_timeout_ms)
        if lookup is None or lookup.degraded:
            plan.cache_status = "unavailable"
            observe.cache_lookups.add(1, {"result": plan.cache_status})
            return None
        plan.cache_status = "hit" if lookup.hit else ("refresh" if decision == caching.REFRESH else "miss")
        observe.cache_lookups.add(1, {"result": plan.cache_status})
        plan.cache_slot = lookup.cache_key
        plan.cache_leader = lookup.leader
        return lookup

    def _storable(self, plan: Plan, route: ModelRoute) -> bool:
        """Only the model the key names may fill it: a fallback answer never poses as the primary's."""
        if not plan.cache_slot:
            return False
        return plan.policy != "" or route.id == plan.candidates[0].id

    async def _store(self, principal: billing_pb2.Principal, plan: Plan, route: ModelRoute, completion: dict,
                     facts: router_pb2.ReceiptFacts) -> None:
        """Store the answer after the response: the key's lease stays held until the store lands, so
        an identical request arriving meanwhile waits for it instead of calling the upstream."""
        if not self._storable(plan, route):
            return
        request = cache_pb2.StoreRequest(
            cache_key=plan.cache_slot, ttl_seconds=principal.cache_ttl_entry_seconds, project_id=principal.project_id,
            entry=cache_pb2.CacheEntry(response_json=orjson.dumps(completion), receipt_id=facts.receipt_id,
                                       provider=route.provider.id, served_model=route.id,
                                       stored_at_unix_ms=int(time.time() * 1000),
                                       list_cost_nano_usd=facts.list_cost_nano_usd))
        plan.cache_leader = False  # the store below answers the waiters, or abandons for them
        self._in_background(self._store_now(request, plan.request_id, linger=plan.cache_status != "refresh"))

    async def _store_now(self, request: cache_pb2.StoreRequest, request_id: str, *, linger: bool) -> None:
        stored = await self.cache.store(request, linger=linger)
        if stored is None:
            await self.cache.abandon(request.cache_key)
        elif not stored.stored:
            log.info("answer not cached", extra={"fields": {"request_id": request_id, "reason": stored.reason}})

    def _abandon_if_leading(self, plan: Plan) -> None:
        if plan.cache_leader:
            plan.cache_leader = False
            self._in_background(self.cache.abandon(plan.cache_slot))

    async def _replay(self, principal: billing_pb2.Principal, plan: Plan,
                      entry: cache_pb2.CacheEntry) -> tuple[dict, router_pb2.ReceiptFacts]:
        """Settle a hit: the stored answer's usage at today's list price, less the project's discount."""
        completion = orjson.loads(entry.response_json)
        view = self._view()
        route = view.models.get(entry.served_model) or plan.candidates[0]
        stored_usage = usage_mod.from_response(completion, plan.body)
        replayed = usage_mod.Usage(prompt_tokens=stored_usage.prompt_tokens,
                                   completion_tokens=stored_usage.completion_tokens,
                                   cached_prompt_tokens=stored_usage.cached_prompt_tokens,
                                   reasoning_tokens=stored_usage.reasoning_tokens, source="replayed")
        listed = list_cost(route, replayed)
        await self._reserve(principal, plan, listed - money.discount_nano(listed, principal.cache_discount_bps))
        facts = await self._settle(principal, plan, route, replayed, ids.new_receipt_id(), "none", "ok",
                                   served_mode="exact_cache", discount_bps=principal.cache_discount_bps,
                                   replayed_receipt_id=entry.receipt_id)
        return completion, facts

    # -- admission ------------------------------------------------------------------

    async def _call(self, route: ModelRoute, principal: billing_pb2.Principal) -> tuple[ProviderCall, str]:
        credential = await self.credentials.resolve(route.provider, principal)
        if not credential.api_key:
            raise UpstreamError(route.provider.id, "not_configured",
                                f"{route.provider.id} has no API key configured "
                                f"(set {route.provider.env_prefix}_API_KEY or store a project key)", retryable=True)
        call = ProviderCall(route.provider, credential, route.upstream_id, route.max_output_tokens)
        return call, credential.source

    async def _rate_limit(self, principal: billing_pb2.Principal, plan: Plan) -> None:
        await self.rate_limiter.admit(principal.key_id, requests_per_minute=principal.requests_per_minute,
                                      tokens_per_minute=principal.tokens_per_minute,
                                      prompt_tokens=plan.prompt_estimate)

    async def _reserve(self, principal: billing_pb2.Principal, plan: Plan, amount: int) -> None:
        """Hold `amount` against the key's budgets (fails closed: no reservation, no spend)."""
        if not principal.has_budget:
            return
        try:
            reservation = await self.billing.reserve(plan.request_id, principal, amount)
        except GatewayError as error:
            if error.http_status >= 500:
                raise GatewayError(503, "Budgets cannot be checked because billing is unavailable; the request "
                                        "was not sent. Retry shortly.", code="billing_unavailable",
                                   retry_after_seconds=1) from None
            raise
        plan.reservation_id = reservation.reservation_id
        plan.reserved_nano_usd = amount
        if reservation.HasField("budget_remaining_nano_usd"):
            plan.budget_remaining_nano_usd = reservation.budget_remaining_nano_usd

    async def _reserve_worst_case(self, principal: billing_pb2.Principal, plan: Plan) -> None:
        if principal.has_budget:
            await self._reserve(principal, plan, max(worst_case_nano(route, plan.body, plan.prompt_estimate)
                                                     for route in plan.candidates))

    def _release_if_unsettled(self, plan: Plan) -> None:
        if plan.reservation_id and not plan.settled:
            self._in_background(self.billing.release(plan.reservation_id, plan.request_id))

    def _observe(self, route: ModelRoute, ttft_ms: int, total_ms: int, error: bool) -> None:
        if self.latency is not None:
            self.latency.observe(route.id, route.provider.id, ttft_ms, total_ms, error)

    def _failed(self, plan: Plan, route: ModelRoute, failure: UpstreamError, started: float) -> None:
        elapsed = int((time.perf_counter() - started) * 1000)
        if failure.kind != "not_configured":
            self._observe(route, elapsed, elapsed, True)
        plan.attempts.append(router_pb2.Attempt(provider=route.provider.id, model=route.id, outcome=failure.outcome,
                                                latency_ms=elapsed))
        log.warning("upstream attempt failed", extra={"fields": {
            "request_id": plan.request_id, "provider": route.provider.id, "model": route.id,
            "outcome": failure.outcome, "retryable": failure.retryable}})

    # -- non-streaming --------------------------------------------------------------

    async def complete(self, principal: billing_pb2.Principal, request: router_pb2.ChatRequest) -> tuple[
            bytes, router_pb2.ReceiptFacts]:
        plan = self.plan(principal, request)
        await self._rate_limit(principal, plan)
        try:
            lookup = await self._lookup_cache(principal, request, plan)
            if lookup is not None and lookup.hit:
                completion, facts = await self._replay(principal, plan, lookup.entry)
            else:
                await self._reserve_worst_case(principal, plan)
                completion, facts = await self._complete(principal, plan)
            completion["nextmodel"] = nextmodel_object(facts)
            return orjson.dumps(completion), facts
        finally:
            self._release_if_unsettled(plan)
            self._abandon_if_leading(plan)

    async def _complete(self, principal: billing_pb2.Principal, plan: Plan) -> tuple[dict, router_pb2.ReceiptFacts]:
        for position, route in enumerate(plan.candidates):
            started = time.perf_counter()
            span = observe.model_span(route.provider.id, route.upstream_id, plan.body, principal.project_id)
            attached = otel_context.attach(trace.set_span_in_context(span))
            try:
                call, credential_source = await self._call(route, principal)
                result = await self.adapters[route.provider.protocol].complete(call, plan.body)
            except UpstreamError as failure:
                observe.finish_model_span(span, None, error=failure.outcome)
                self._failed(plan, route, failure, started)
                if failure.retryable and position + 1 < len(plan.candidates):
                    continue
                raise upstream_gateway_error(failure) from None
            finally:
                otel_context.detach(attached)
            plan.attempts.append(router_pb2.Attempt(provider=route.provider.id, model=route.id, outcome="ok",
                                                    latency_ms=result.latency_ms))
            self._observe(route, result.latency_ms, result.latency_ms, False)
            usage = usage_mod.from_response(result.response, plan.body)
            facts = await self._settle(principal, plan, route, usage, ids.new_receipt_id(), credential_source, "ok")
            observe.finish_model_span(span, facts, response_model=str(result.response.get("model", "")))
            await self._store(principal, plan, route, result.response, facts)
            return result.response, facts
        raise AssertionError("a plan always has a candidate")

    # -- streaming ------------------------------------------------------------------

    async def stream(self, principal: billing_pb2.Principal,
                     request: router_pb2.ChatRequest) -> AsyncIterator[router_pb2.ChatStreamEvent]:
        plan = self.plan(principal, request)
        await self._rate_limit(principal, plan)
        try:
            lookup = await self._lookup_cache(principal, request, plan)
            if lookup is not None and lookup.hit:
                events = self._stream_replay(principal, plan, lookup.entry)
            else:
                await self._reserve_worst_case(principal, plan)
                events = self._stream(principal, plan)
            async for event in events:
                yield event
        finally:
            self._release_if_unsettled(plan)
            self._abandon_if_leading(plan)

    async def _stream_replay(self, principal: billing_pb2.Principal, plan: Plan,
                             entry: cache_pb2.CacheEntry) -> AsyncIterator[router_pb2.ChatStreamEvent]:
        completion, facts = await self._replay(principal, plan, entry)
        yield router_pb2.ChatStreamEvent(start=facts)
        chunks = caching.completion_to_chunks(completion, plan.stream_usage_requested)
        chunks[-1]["nextmodel"] = nextmodel_object(facts)
        for chunk in chunks:
            yield router_pb2.ChatStreamEvent(chunk_json=orjson.dumps(chunk))
        yield router_pb2.ChatStreamEvent(final=facts)

    async def _stream(self, principal: billing_pb2.Principal, plan: Plan) -> AsyncIterator[router_pb2.ChatStreamEvent]:
        for position, route in enumerate(plan.candidates):
            started = time.perf_counter()
            first: dict | None = None
            span = observe.model_span(route.provider.id, route.upstream_id, plan.body, principal.project_id)
            attached = otel_context.attach(trace.set_span_in_context(span))
            try:
                call, credential_source = await self._call(route, principal)
                chunks = self.adapters[route.provider.protocol].stream(call, plan.body)
                first = await anext(chunks)
            except StopAsyncIteration:
                failure = UpstreamError(route.provider.id, "stream", f"{route.provider.id} sent an empty stream",
                                        retryable=True)
            except UpstreamError as error:
                failure = error
            finally:
                otel_context.detach(attached)
            if first is not None:
                break
            observe.finish_model_span(span, None, error=failure.outcome)
            self._failed(plan, route, failure, started)
            if not (failure.retryable and position + 1 < len(plan.candidates)):
                raise upstream_gateway_error(failure)
        first_token_ms = int((time.perf_counter() - started) * 1000)
        plan.attempts.append(router_pb2.Attempt(provider=route.provider.id, model=route.id, outcome="ok",
                                                latency_ms=first_token_ms))

        receipt_id = ids.new_receipt_id()
        accumulator = StreamAccumulator(include_usage=plan.stream_usage_requested, prompt_estimate=plan.prompt_estimate)
        # Should this process die mid-stream, its next start settles this record (outbox.py).
        self._stream_checkpoint(principal, plan, route, accumulator.usage(plan.body), receipt_id, credential_source)
        checkpoint_at = time.monotonic() + STREAM_CHECKPOINT_SECONDS
        yield router_pb2.ChatStreamEvent(start=router_pb2.ReceiptFacts(
            request_id=plan.request_id, receipt_id=receipt_id, served_mode=router_pb2.SERVED_MODE_FRESH,
            usage_source=router_pb2.USAGE_SOURCE_UPSTREAM, provider=route.provider.id,
            requested_model=plan.requested, served_model=route.id, price_version=route.price_version,
            route_reason=plan.reason, cache_status=plan.cache_status,
        ))
        answer = caching.CompletionBuilder()
        failure: UpstreamError | None = None
        try:
            answer.add(first)
            ready = accumulator.push(first)
            if ready is not None:
                yield router_pb2.ChatStreamEvent(chunk_json=orjson.dumps(ready))
            async for chunk in chunks:
                answer.add(chunk)
                ready = accumulator.push(chunk)
                if ready is not None:
                    yield router_pb2.ChatStreamEvent(chunk_json=orjson.dumps(ready))
                if time.monotonic() >= checkpoint_at:
                    self._stream_checkpoint(principal, plan, route, accumulator.usage(plan.body), receipt_id,
                                            credential_source)
                    checkpoint_at = time.monotonic() + STREAM_CHECKPOINT_SECONDS
        except UpstreamError as error:
            failure = error
        except (asyncio.CancelledError, GeneratorExit):
            # The client went away: the upstream call is closed with this generator; what was
            # produced so far is still billed (and never cached), settled where cancellation
            # cannot reach.
            await chunks.aclose()
            observe.finish_model_span(span, None, error="client_cancelled")
            plan.settled = True
            self._in_background(self._settle(principal, plan, route, accumulator.usage(plan.body), receipt_id,
                                             credential_source, "client_cancelled"))
            raise
        usage = accumulator.usage(plan.body)
        if failure is not None:
            observe.finish_model_span(span, None, error=failure.outcome)
            self._failed(plan, route, failure, started)
            await self._settle(principal, plan, route, usage, receipt_id, credential_source, "upstream_error")
            held = accumulator.flush()
            if held is not None:
                yield router_pb2.ChatStreamEvent(chunk_json=orjson.dumps(held))
            error = upstream_gateway_error(failure)
            yield router_pb2.ChatStreamEvent(error=error.to_proto())
            return
        self._observe(route, first_token_ms, int((time.perf_counter() - started) * 1000), False)
        facts = await self._settle(principal, plan, route, usage, receipt_id, credential_source, "ok")
        observe.finish_model_span(span, facts, response_model=str(answer.head.get("model", "")))
        await self._store(principal, plan, route, answer.completion(accumulator.upstream_usage or
                                                                    openai_usage(usage)), facts)
        for chunk in accumulator.finish(usage, nextmodel_object(facts)):
            yield router_pb2.ChatStreamEvent(chunk_json=orjson.dumps(chunk))
        yield router_pb2.ChatStreamEvent(final=facts)

    def _in_background(self, work) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- settling -------------------------------------------------------------------

    async def _settle(self, principal: billing_pb2.Principal, plan: Plan, route: ModelRoute, usage: usage_mod.Usage,
                      receipt_id: str, credential_source: str, status: str, *, served_mode: str = "fresh",
                      discount_bps: int = 0, replayed_receipt_id: str = "") -> router_pb2.ReceiptFacts:
        """Price the usage from the catalog copy and record it in billing; returns the receipt facts.

        Billing prices it again with the same function and the same price; the router's figure
        is what the response shows, so the answer never waits for (or on) billing's."""
        plan.settled = True
        request, listed, discount = self._settle_request(
            principal, plan, route, usage, receipt_id, credential_source, status, served_mode=served_mode,
            discount_bps=discount_bps, replayed_receipt_id=replayed_receipt_id)
        await self.billing.settle(request)
        if served_mode == "fresh":
            await self.rate_limiter.spent(principal.key_id, usage.prompt_tokens + usage.completion_tokens,
                                          tokens_per_minute=principal.tokens_per_minute)
        facts = router_pb2.ReceiptFacts(
            request_id=plan.request_id,
            receipt_id=receipt_id,
            served_mode=router_pb2.SERVED_MODE_EXACT_CACHE if served_mode == "exact_cache"
            else router_pb2.SERVED_MODE_FRESH,
            usage_source=_USAGE_SOURCE[usage.source],
            provider=route.provider.id,
            requested_model=plan.requested,
            served_model=route.id,
            list_cost_nano_usd=listed,
            discount_nano_usd=discount,
            charged_cost_nano_usd=listed - discount,
            usage=router_pb2.TokenUsage(
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                cached_prompt_tokens=usage.cached_prompt_tokens,
                reasoning_tokens=usage.reasoning_tokens,
            ),
            price_version=route.price_version,
            route_reason=plan.reason,
            attempts=plan.attempts,
            replayed_receipt_id=replayed_receipt_id,
            cache_status=plan.cache_status,
        )
        observe.settled(facts, (time.perf_counter() - plan.started) * 1000, status)
        if plan.budget_remaining_nano_usd is not None:
            # What is left once the reservation turns into the real cost.
            facts.budget_remaining_nano_usd = (plan.budget_remaining_nano_usd + plan.reserved_nano_usd
                                               - facts.charged_cost_nano_usd)
        return facts

    def _settle_request(self, principal: billing_pb2.Principal, plan: Plan, route: ModelRoute,
                        usage: usage_mod.Usage, receipt_id: str, credential_source: str, status: str, *,
                        served_mode: str = "fresh", discount_bps: int = 0,
                        replayed_receipt_id: str = "") -> tuple[billing_pb2.SettleRequest, int, int]:
        """The settlement billing records for this request, and its list cost and discount."""
        listed = list_cost(route, usage)
        discount = money.discount_nano(listed, discount_bps)
        return billing_pb2.SettleRequest(
            request_id=plan.request_id,
            receipt_id=receipt_id,
            key_id=principal.key_id,
            project_id=principal.project_id,
            team_id=principal.team_id,
            requested_model=plan.requested,
            served_model=route.id,
            provider=route.provider.id,
            served_mode=served_mode,
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
            discount_bps=discount_bps,
            latency_ms=int((time.perf_counter() - plan.started) * 1000),
            status=status,
            tags=plan.tags,
            replayed_receipt_id=replayed_receipt_id,
            credential_source=credential_source,
            route_reason=plan.reason,
            created_unix_ms=int(time.time() * 1000),
            reservation_id=plan.reservation_id,
            attempts=[billing_pb2.AttemptRecord(provider=a.provider, model=a.model, outcome=a.outcome,
                                                latency_ms=a.latency_ms) for a in plan.attempts],
        ), listed, discount

    def _stream_checkpoint(self, principal: billing_pb2.Principal, plan: Plan, route: ModelRoute,
                           usage: usage_mod.Usage, receipt_id: str, credential_source: str) -> None:
        """Record what this open stream would settle if the process died now (outbox.py)."""
        request, _, _ = self._settle_request(principal, plan, route, usage, receipt_id, credential_source,
                                             "interrupted")
        self.billing.stream_open(request)


def list_cost(route: ModelRoute, usage: usage_mod.Usage) -> int:
    return money.request_cost_nano(
        prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
        cached_prompt_tokens=usage.cached_prompt_tokens, input_per_mtok=route.input_per_mtok,
        cached_input_per_mtok=route.cached_input_per_mtok, output_per_mtok=route.output_per_mtok)


def worst_case_nano(route: ModelRoute, body: dict, prompt_tokens: int | None = None) -> int:
    """The most a request can cost on `route`: its prompt plus the most output it allows (DESIGN §7)."""
    if prompt_tokens is None:
        prompt_tokens = usage_mod.estimate_tokens(orjson.dumps(body.get("messages", [])).decode())
    cap = body.get("max_completion_tokens") or body.get("max_tokens") or route.max_output_tokens or 4096
    cap = min(int(cap), route.max_output_tokens or int(cap))
    choices = body.get("n") or 1
    return money.request_cost_nano(
        prompt_tokens=prompt_tokens, completion_tokens=cap * choices, cached_prompt_tokens=0,
        input_per_mtok=route.input_per_mtok, cached_input_per_mtok=None, output_per_mtok=route.output_per_mtok)


def _suggest(name: str, known) -> str:
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.5)
    return f" Did you mean {', '.join(repr(c) for c in close)}?" if close else " See GET /v1/models."


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
        "cache": facts.cache_status or "off",
        "replayed_receipt_id": facts.replayed_receipt_id or None,
        "saving_usd": money.usd(facts.discount_nano_usd),
        "attempts": [{"provider": a.provider, "model": a.model, "outcome": a.outcome, "latency_ms": a.latency_ms}
                     for a in facts.attempts],
    }


def upstream_gateway_error(failure: UpstreamError) -> GatewayError:
    """What the caller sees when the provider failed (after every fallback)."""
    if failure.kind == "timeout":
        return GatewayError(504, f"Provider {failure.provider} did not answer in time. Retry the request.",
                            code="upstream_timeout", type="server_error")
    if failure.status == 429:
        return GatewayError(429, f"Provider {failure.provider} is rate limiting requests. Retry later.",
                            code="upstream_rate_limited", retry_after_seconds=failure.retry_after or 1)
    if failure.status == 529:
        return GatewayError(503, f"Provider {failure.provider} is overloaded. Retry shortly.",
                            code="upstream_overloaded", type="server_error", retry_after_seconds=1)
    if failure.status in (400, 404, 413, 422):
        return GatewayError(400, f"Provider {failure.provider} rejected the request: {failure.message}",
                            code="upstream_rejected")
    return GatewayError(502, f"Provider {failure.provider} failed: {failure.message}. Retry the request.",
                        code="upstream_error", type="server_error")
