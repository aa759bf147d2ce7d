"""Admission: per-key rate limits, then (only when a budget applies) a hold on the worst-case
cost in billing, given back when the request ends unsettled.

Reserving fails closed: when billing cannot answer, a budgeted request is not sent.
"""

from __future__ import annotations

import orjson

from nextmodel_common import money
from nextmodel_common.errors import GatewayError
from nextmodel_router import usage as usage_mod
from nextmodel_router.catalog_copy import ModelRoute
from nextmodel_router.chat.background import BackgroundTasks
from nextmodel_router.chat.context import ChatContext
from nextmodel_router.clients import BillingClient
from nextmodel_router.ratelimit import RateLimiter


class Admission:
    def __init__(self, rate_limiter: RateLimiter, billing: BillingClient, tasks: BackgroundTasks) -> None:
        self.rate_limiter = rate_limiter
        self.billing = billing
        self.tasks = tasks

    async def rate_limit(self, ctx: ChatContext) -> None:
        principal = ctx.principal
        await self.rate_limiter.admit(principal.key_id, requests_per_minute=principal.requests_per_minute,
                                      tokens_per_minute=principal.tokens_per_minute,
                                      prompt_tokens=ctx.plan.prompt_estimate)

    async def reserve(self, ctx: ChatContext, amount: int) -> None:
        """Hold `amount` against the key's budgets (fails closed: no reservation, no spend)."""
        principal = ctx.principal
        if not principal.has_budget:
            return
        try:
            reservation = await self.billing.reserve(ctx.request_id, principal, amount)
        except GatewayError as error:
            if error.http_status >= 500:
                raise GatewayError(503, "Budgets cannot be checked because billing is unavailable; the request "
                                        "was not sent. Retry shortly.", code="billing_unavailable",
                                   retry_after_seconds=1) from None
            raise
        ctx.reservation_id = reservation.reservation_id
        ctx.reserved_nano_usd = amount
        if reservation.HasField("budget_remaining_nano_usd"):
            ctx.budget_remaining_nano_usd = reservation.budget_remaining_nano_usd

    async def reserve_worst_case(self, ctx: ChatContext) -> None:
        if ctx.principal.has_budget:
            await self.reserve(ctx, max(worst_case_nano(route, ctx.body, ctx.plan.prompt_estimate)
                                        for route in ctx.plan.candidates))

    def release_if_unsettled(self, ctx: ChatContext) -> None:
        if ctx.reservation_id and not ctx.settled:
            self.tasks.spawn(self.billing.release(ctx.reservation_id, ctx.request_id))


def worst_case_nano(route: ModelRoute, body: dict, prompt_tokens: int | None = None) -> int:
    """The most a request can cost on `route`: its prompt plus the most output it allows (docs/budgets.md)."""
    if prompt_tokens is None:
        prompt_tokens = usage_mod.estimate_tokens(orjson.dumps(body.get("messages", [])).decode())
    cap = body.get("max_completion_tokens") or body.get("max_tokens") or route.max_output_tokens or 4096
    cap = min(int(cap), route.max_output_tokens or int(cap))
    choices = body.get("n") or 1
    return money.request_cost_nano(
        prompt_tokens=prompt_tokens, completion_tokens=cap * choices, cached_prompt_tokens=0,
        input_per_mtok=route.input_per_mtok, cached_input_per_mtok=None, output_per_mtok=route.output_per_mtok)
