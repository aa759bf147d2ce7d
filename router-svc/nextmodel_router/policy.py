"""Routing policies: which models may serve a request, in which order.

A policy (catalog data, from the seed YAML or the admin API) can

- list its candidates, or take every model in the catalog;
- allow or deny providers and regions (data residency);
- cap the input and output price (USD per 1M tokens);
- require a measured latency p95 and a maximum error rate (models not measured yet pass);
- keep only models with the capabilities the request needs, detected from the request itself
  (tools, images, JSON schema output, streaming, reasoning, and a context window large enough
  for the prompt and the output it allows);
- switch to another policy when the tightest budget's remaining share falls below a threshold;
- sort by price (the request's estimated cost), latency p50 or the given order, and keep the
  first `max_candidates` as the fallback chain.

Everything here is a pure function of the request, the catalog view and the budget state, so
each rule is tested without a network.
"""

from __future__ import annotations

from dataclasses import dataclass

from nextmodel_common import money
from nextmodel_router.catalog_copy import CatalogView, ModelRoute, Policy

DEFAULT_COMPLETION_ESTIMATE = 256


@dataclass(frozen=True)
class Needs:
    tools: bool = False
    vision: bool = False
    json_schema: bool = False
    streaming: bool = False
    reasoning: bool = False
    prompt_tokens: int = 0
    completion_tokens: int = 0  # the output cap the request allows (0: none given)

    @property
    def context_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def names(self) -> list[str]:
        return [name for name in ("tools", "vision", "json_schema", "streaming", "reasoning") if getattr(self, name)]


def needs_of(body: dict, prompt_tokens: int) -> Needs:
    def has_image(message: dict) -> bool:
        content = message.get("content")
        return isinstance(content, list) and any(
            isinstance(part, dict) and part.get("type") in ("image_url", "input_image") for part in content)

    response_format = body.get("response_format") or {}
    return Needs(
        tools=bool(body.get("tools") or body.get("functions")),
        vision=any(has_image(m) for m in body.get("messages") or () if isinstance(m, dict)),
        json_schema=isinstance(response_format, dict) and response_format.get("type") == "json_schema",
        streaming=bool(body.get("stream")),
        reasoning=body.get("reasoning_effort") not in (None, "none"),
        prompt_tokens=prompt_tokens,
        completion_tokens=int(body.get("max_completion_tokens") or body.get("max_tokens") or 0),
    )


def unmet(route: ModelRoute, needs: Needs) -> list[str]:
    """What a model lacks for the request ([] when it fits)."""
    capabilities = route.proto.capabilities
    missing = [name for name in needs.names() if not getattr(capabilities, name)]
    if route.proto.context_window and needs.context_tokens > route.proto.context_window:
        missing.append("context_window")
    return missing


def estimated_cost_nano(route: ModelRoute, needs: Needs) -> int:
    return money.request_cost_nano(
        prompt_tokens=needs.prompt_tokens,
        completion_tokens=needs.completion_tokens or DEFAULT_COMPLETION_ESTIMATE,
        cached_prompt_tokens=0, input_per_mtok=route.input_per_mtok, cached_input_per_mtok=None,
        output_per_mtok=route.output_per_mtok)


class NoCandidate(Exception):
    """A filter of the policy removed the last candidate."""

    def __init__(self, policy: str, rule: str, removed: list[str]) -> None:
        shown = ", ".join(removed[:5]) + (" ..." if len(removed) > 5 else "")
        super().__init__(f"Policy {policy!r} leaves no model for this request: the rule '{rule}' removed the "
                         f"last candidates ({shown}).")
        self.policy = policy
        self.rule = rule


@dataclass(frozen=True)
class Route:
    candidates: list[ModelRoute]
    reason: str
    policy: str


def _latency_ok(route: ModelRoute, limit_ms: int) -> bool:
    latency = route.proto.latency
    return latency.samples == 0 or latency.total_p95_ms <= limit_ms


def _rules(spec: dict, needs: Needs):
    """(rule name, keep) pairs in the order they apply; a rule the policy does not set is skipped."""
    if "allow_providers" in spec:
        allowed = set(spec["allow_providers"])
        yield "allow_providers", lambda r: r.provider.id in allowed
    if "deny_providers" in spec:
        denied = set(spec["deny_providers"])
        yield "deny_providers", lambda r: r.provider.id not in denied
    if "allow_regions" in spec:
        regions = set(spec["allow_regions"])
        yield "allow_regions", lambda r: r.proto.region in regions
    if "deny_regions" in spec:
        regions = set(spec["deny_regions"])
        yield "deny_regions", lambda r: r.proto.region not in regions
    if "max_input_price" in spec:
        cap = money.price(spec["max_input_price"])
        yield "max_input_price", lambda r: r.input_per_mtok <= cap
    if "max_output_price" in spec:
        cap = money.price(spec["max_output_price"])
        yield "max_output_price", lambda r: r.output_per_mtok <= cap
    if "max_latency_p95_ms" in spec:
        limit = int(spec["max_latency_p95_ms"])
        yield "max_latency_p95_ms", lambda r: _latency_ok(r, limit)
    if "max_error_rate" in spec:
        rate = float(spec["max_error_rate"])
        yield "max_error_rate", lambda r: r.proto.latency.samples == 0 or r.proto.latency.error_rate <= rate
    yield "capabilities", lambda r: not unmet(r, needs)


def choose(policy: Policy, view: CatalogView, needs: Needs, *, budget_remaining_bps: int | None = None,
           _switched_from: str = "") -> Route:
    spec = policy.spec
    low = spec.get("low_budget")
    if (low and not _switched_from and budget_remaining_bps is not None
            and budget_remaining_bps < float(low["below_percent"]) * 100 and low["policy"] in view.policies):
        switched = choose(view.policies[low["policy"]], view, needs, _switched_from=policy.name)
        return Route(switched.candidates, f"policy {policy.name}: budget below {low['below_percent']}%, "
                                          f"switched to {switched.reason}", switched.policy)
    candidates = list(policy.candidates) if spec.get("candidates") else list(view.models.values())
    for rule, keep in _rules(spec, needs):
        kept = [route for route in candidates if keep(route)]
        if not kept:
            raise NoCandidate(policy.name, rule, [route.id for route in candidates])
        candidates = kept
    order = spec.get("sort", "order" if spec.get("candidates") else "price")
    if order == "price":
        candidates.sort(key=lambda r: (estimated_cost_nano(r, needs), r.id))
    elif order == "latency":
        candidates.sort(key=lambda r: (r.proto.latency.samples == 0, r.proto.latency.total_p50_ms, r.id))
    candidates = candidates[: spec.get("max_candidates") or len(candidates)]
    described = {"order": "in the given order", "price": "cheapest first", "latency": "fastest first"}[order]
    return Route(candidates, f"policy {policy.name}: {described}, {len(candidates)} candidates", policy.name)


def policy_for_tags(view: CatalogView, tags: dict[str, str]) -> Policy | None:
    """The first policy (by name) whose match_tags all appear in the request's tags."""
    for name in sorted(view.policies):
        wanted = view.policies[name].spec.get("match_tags")
        if wanted and all(tags.get(k) == v for k, v in wanted.items()):
            return view.policies[name]
    return None
