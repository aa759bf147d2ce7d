"""Planning: which catalog models may serve a request, in which order (resolve, route, suggest).

Everything reads the router's local catalog copy; no request waits on catalog-svc. A policy
(`policy.py`) filters and orders the candidates; candidates that cannot honour a parameter
are dropped (`Adapter.check`), and a 400 names the provider and parameter when none is left.
"""

from __future__ import annotations

import difflib

import orjson

from nextmodel.billing.v1 import billing_pb2
from nextmodel_common.errors import GatewayError
from nextmodel_router import policy
from nextmodel_router import usage as usage_mod
from nextmodel_router.adapters import Adapter, Unsupported
from nextmodel_router.catalog_copy import CatalogCopy, CatalogView, ModelRoute
from nextmodel_router.chat.context import POLICY_PREFIX, Plan
from nextmodel_router.chat.request import ChatInput
from nextmodel_router.credentials import Credentials


class Planner:
    def __init__(self, catalog: CatalogCopy, adapters: dict[str, Adapter], credentials: Credentials) -> None:
        self.catalog = catalog
        self.adapters = adapters
        self.credentials = credentials

    def view(self) -> CatalogView:
        view = self.catalog.view
        if view is None:
            raise GatewayError(503, "The model catalog is not loaded yet. Retry in a few seconds.",
                               code="catalog_unavailable", retry_after_seconds=2)
        return view

    def resolve(self, requested: str, principal: billing_pb2.Principal) -> ModelRoute:
        view = self.view()
        route = view.resolve(requested)
        if route is None:
            raise GatewayError(404, f"The model {requested!r} does not exist.{suggest(requested, view.by_name)}",
                               param="model", code="model_not_found")
        if principal.allowed_models and route.id not in principal.allowed_models:
            raise GatewayError(403, f"This API key may not use the model {route.id!r}.", param="model",
                               code="model_not_allowed")
        return route

    def plan(self, principal: billing_pb2.Principal, chat: ChatInput) -> Plan:
        body = chat.body
        prompt_estimate = usage_mod.estimate_tokens(orjson.dumps(body.get("messages", [])).decode())
        tags = {**principal.tags, **chat.tags}
        candidates, reason, policy_name = self.route(principal, chat.requested, chat.policy, body, prompt_estimate,
                                                     tags)
        candidates, reason = self.configured(candidates, reason, principal)
        return Plan(candidates=self.able(candidates, body), reason=reason, policy=policy_name, tags=tags,
                    prompt_estimate=prompt_estimate)

    def configured(self, candidates: list[ModelRoute], reason: str,
                   principal: billing_pb2.Principal) -> tuple[list[ModelRoute], str]:
        """The candidates whose provider has a key for this caller. None left is configuration, not
        a passing fault: a 400 (SDKs do not retry it) that says both ways to fix it."""
        usable = [c for c in candidates if self.credentials.configured(c.provider, principal)]
        if len(usable) == len(candidates):
            return candidates, reason
        skipped = sorted({c.provider.id for c in candidates if c not in usable})
        if not usable:
            provider = next(c.provider for c in candidates if c.provider.id == skipped[0])
            raise GatewayError(
                400, f"Provider {provider.id} has no API key configured. Set {provider.env_prefix}_API_KEY on the "
                     f"gateway, or store this project's own key with PUT /admin/v1/projects/{principal.project_id}"
                     f"/provider-keys/{provider.id}.", param="model", code="provider_not_configured")
        return usable, f"{reason}; skipped {', '.join(skipped)} (no API key configured)"

    def able(self, candidates: list[ModelRoute], body: dict) -> list[ModelRoute]:
        """The candidates whose adapter can honour every parameter of `body` (400 when none can)."""
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
        return able

    def route(self, principal: billing_pb2.Principal, requested: str, policy_header: str, body: dict,
              prompt_estimate: int, tags: dict[str, str]) -> tuple[list[ModelRoute], str, str]:
        """(candidates, reason, policy) for a request.

        Precedence: the x-nextmodel-policy header, then "model": "nextmodel/<policy>"; the model
        "nextmodel/auto" takes the policy its tags select, else the key's default policy; any
        other model name is served by that model.
        """
        view = self.view()
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
            raise GatewayError(404, f"The routing policy {name!r} does not exist.{suggest(name, view.policies)}",
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


def suggest(name: str, known) -> str:
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.5)
    return f" Did you mean {', '.join(repr(c) for c in close)}?" if close else " See GET /v1/models."
