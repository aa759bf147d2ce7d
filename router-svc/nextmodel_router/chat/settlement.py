"""Settlement: price the usage from the catalog copy, record it in billing through the outbox,
and return the receipt facts the answer shows.

Billing prices it again with the same function and the same price; the router's figure is
what the response shows, so the answer never waits for (or on) billing's.
"""

from __future__ import annotations

import time

from nextmodel.billing.v1 import billing_pb2
from nextmodel.common.v1 import common_pb2
from nextmodel.router.v1 import router_pb2
from nextmodel_common import enums, money
from nextmodel_router import observe
from nextmodel_router import usage as usage_mod
from nextmodel_router.catalog_copy import ModelRoute
from nextmodel_router.chat.context import ChatContext
from nextmodel_router.clients import BillingClient
from nextmodel_router.ratelimit import RateLimiter


class Settlement:
    def __init__(self, billing: BillingClient, rate_limiter: RateLimiter) -> None:
        self.billing = billing
        self.rate_limiter = rate_limiter

    async def settle(self, ctx: ChatContext, usage: usage_mod.Usage, status: str, *, served_mode: str = "fresh",
                     discount_bps: int = 0, replayed_receipt_id: str = "") -> router_pb2.ReceiptFacts:
        """Record what `ctx.route` served under `ctx.receipt_id`; returns the receipt facts."""
        ctx.settled = True
        request, listed, discount = self.record(ctx, usage, status, served_mode=served_mode,
                                                discount_bps=discount_bps, replayed_receipt_id=replayed_receipt_id)
        await self.billing.settle(request)
        principal = ctx.principal
        if served_mode == "fresh":
            await self.rate_limiter.spent(principal.key_id, usage.prompt_tokens + usage.completion_tokens,
                                          tokens_per_minute=principal.tokens_per_minute)
        route = ctx.served_route
        facts = router_pb2.ReceiptFacts(
            request_id=ctx.request_id,
            receipt_id=ctx.receipt_id,
            served_mode=enums.value(common_pb2.ServedMode, served_mode),
            usage_source=enums.value(common_pb2.UsageSource, usage.source),
            provider=route.provider.id,
            requested_model=ctx.requested,
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
            route_reason=ctx.plan.reason,
            attempts=ctx.attempts,
            replayed_receipt_id=replayed_receipt_id,
            cache_status=ctx.cache_status,
        )
        observe.settled(facts, (time.perf_counter() - ctx.started) * 1000, status)
        if ctx.budget_remaining_nano_usd is not None:
            # What is left once the reservation turns into the real cost.
            facts.budget_remaining_nano_usd = (ctx.budget_remaining_nano_usd + ctx.reserved_nano_usd
                                               - facts.charged_cost_nano_usd)
        return facts

    def record(self, ctx: ChatContext, usage: usage_mod.Usage, status: str, *, served_mode: str = "fresh",
               discount_bps: int = 0, replayed_receipt_id: str = "") -> tuple[billing_pb2.SettleRequest, int, int]:
        """The settlement billing records for this request, and its list cost and discount."""
        route, principal = ctx.served_route, ctx.principal
        listed = list_cost(route, usage)
        discount = money.discount_nano(listed, discount_bps)
        return billing_pb2.SettleRequest(
            request_id=ctx.request_id,
            receipt_id=ctx.receipt_id,
            key_id=principal.key_id,
            project_id=principal.project_id,
            team_id=principal.team_id,
            requested_model=ctx.requested,
            served_model=route.id,
            provider=route.provider.id,
            served_mode=enums.value(common_pb2.ServedMode, served_mode),
            usage_source=enums.value(common_pb2.UsageSource, usage.source),
            legacy_served_mode=served_mode,  # for a billing of the previous release (billing.proto)
            legacy_usage_source=usage.source,
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
            latency_ms=int((time.perf_counter() - ctx.started) * 1000),
            status=status,
            tags=ctx.plan.tags,
            replayed_receipt_id=replayed_receipt_id,
            credential_source=ctx.credential_source,
            route_reason=ctx.plan.reason,
            created_unix_ms=int(time.time() * 1000),
            reservation_id=ctx.reservation_id,
            attempts=ctx.attempts,
        ), listed, discount

    def checkpoint(self, ctx: ChatContext, usage: usage_mod.Usage) -> None:
        """Record what this open stream would settle if the process died now (outbox.py)."""
        request, _, _ = self.record(ctx, usage, "interrupted")
        self.billing.stream_open(request)


def list_cost(route: ModelRoute, usage: usage_mod.Usage) -> int:
    return money.request_cost_nano(
        prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
        cached_prompt_tokens=usage.cached_prompt_tokens, input_per_mtok=route.input_per_mtok,
        cached_input_per_mtok=route.cached_input_per_mtok, output_per_mtok=route.output_per_mtok)
