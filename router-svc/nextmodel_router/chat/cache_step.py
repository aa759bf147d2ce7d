"""The exact cache on the request path: look up (taking the key's lease on a miss), replay a hit,
store a fresh answer after the response, and give the lease back when no answer will come.

The rules of *whether* are in `caching.py`; the cache service owns keys and entries.
"""

from __future__ import annotations

import logging
import time

import orjson

from nextmodel.cache.v1 import cache_pb2
from nextmodel.router.v1 import router_pb2
from nextmodel_common import ids, money
from nextmodel_router import caching, observe
from nextmodel_router import usage as usage_mod
from nextmodel_router.chat.admission import Admission
from nextmodel_router.chat.background import BackgroundTasks
from nextmodel_router.chat.context import ChatContext
from nextmodel_router.chat.planning import Planner
from nextmodel_router.chat.settlement import Settlement, list_cost
from nextmodel_router.clients import CacheClient

log = logging.getLogger(__name__)


class CacheStep:
    def __init__(self, cache: CacheClient, planner: Planner, admission: Admission, settlement: Settlement,
                 tasks: BackgroundTasks, coalesce_timeout_ms: int) -> None:
        self.cache = cache
        self.planner = planner
        self.admission = admission
        self.settlement = settlement
        self.tasks = tasks
        self.coalesce_timeout_ms = coalesce_timeout_ms

    async def lookup(self, ctx: ChatContext) -> cache_pb2.CacheEntry | None:
        """The entry of a hit, else None; asks the cache only when the rules allow, and sets
        ctx.cache_status either way (and the lease, when this request leads a miss)."""
        principal = ctx.principal
        decision = caching.decide(principal, ctx.input, ctx.body)
        ctx.cache_status = decision if decision in (caching.OFF, caching.NOT_CACHEABLE) else "miss"
        if decision not in (caching.ON, caching.REFRESH):
            return None
        lookup = await self.cache.lookup(cache_pb2.LookupRequest(
            namespace=principal.cache_namespace or principal.project_id,
            requested=ctx.cache_requested,
            body_json=ctx.input.body_json,
            skip_read=decision == caching.REFRESH,
            coalesce_timeout_ms=self.coalesce_timeout_ms if decision == caching.ON else 0,
            project_id=principal.project_id,
        ), coalesce_timeout_ms=self.coalesce_timeout_ms)
        if lookup is None or lookup.degraded:
            ctx.cache_status = "unavailable"
            observe.cache_lookups.add(1, {"result": ctx.cache_status})
            return None
        ctx.cache_status = "hit" if lookup.hit else ("refresh" if decision == caching.REFRESH else "miss")
        observe.cache_lookups.add(1, {"result": ctx.cache_status})
        ctx.cache_slot = lookup.cache_key
        ctx.cache_leader = lookup.leader
        return lookup.entry if lookup.hit else None

    async def replay(self, ctx: ChatContext, entry: cache_pb2.CacheEntry) -> tuple[dict, router_pb2.ReceiptFacts]:
        """Settle a hit: the stored answer's usage at today's list price, less the project's discount."""
        principal = ctx.principal
        completion = orjson.loads(entry.response_json)
        view = self.planner.view()
        route = view.models.get(entry.served_model) or ctx.plan.candidates[0]
        stored_usage = usage_mod.from_response(completion, ctx.body)
        replayed = usage_mod.Usage(prompt_tokens=stored_usage.prompt_tokens,
                                   completion_tokens=stored_usage.completion_tokens,
                                   cached_prompt_tokens=stored_usage.cached_prompt_tokens,
                                   reasoning_tokens=stored_usage.reasoning_tokens, source="replayed")
        listed = list_cost(route, replayed)
        await self.admission.reserve(ctx, listed - money.discount_nano(listed, principal.cache_discount_bps))
        ctx.route, ctx.receipt_id, ctx.credential_source = route, ids.new_receipt_id(), "none"
        facts = await self.settlement.settle(ctx, replayed, "ok", served_mode="exact_cache",
                                             discount_bps=principal.cache_discount_bps,
                                             replayed_receipt_id=entry.receipt_id)
        return completion, facts

    def storable(self, ctx: ChatContext) -> bool:
        """Only the model the key names may fill it: a fallback answer never poses as the primary's."""
        if not ctx.cache_slot:
            return False
        return ctx.plan.policy != "" or ctx.served_route.id == ctx.plan.candidates[0].id

    async def store(self, ctx: ChatContext, completion: dict, facts: router_pb2.ReceiptFacts) -> None:
        """Store the answer after the response: the key's lease stays held until the store lands, so
        an identical request arriving meanwhile waits for it instead of calling the upstream."""
        if not self.storable(ctx):
            return
        route, principal = ctx.served_route, ctx.principal
        request = cache_pb2.StoreRequest(
            cache_key=ctx.cache_slot, ttl_seconds=principal.cache_ttl_entry_seconds, project_id=principal.project_id,
            entry=cache_pb2.CacheEntry(response_json=orjson.dumps(completion), receipt_id=facts.receipt_id,
                                       provider=route.provider.id, served_model=route.id,
                                       stored_at_unix_ms=int(time.time() * 1000),
                                       list_cost_nano_usd=facts.list_cost_nano_usd))
        ctx.cache_leader = False  # the store below answers the waiters, or abandons for them
        self.tasks.spawn(self._store_now(request, ctx.request_id, linger=ctx.cache_status != "refresh"))

    async def _store_now(self, request: cache_pb2.StoreRequest, request_id: str, *, linger: bool) -> None:
        stored = await self.cache.store(request, linger=linger)
        if stored is None:
            await self.cache.abandon(request.cache_key)
        elif not stored.stored:
            log.info("answer not cached", extra={"fields": {"request_id": request_id, "reason": stored.reason}})

    def abandon_if_leading(self, ctx: ChatContext) -> None:
        """A leader whose request ends without storing gives the key back, so waiters go Fresh now."""
        if ctx.cache_leader:
            ctx.cache_leader = False
            self.tasks.spawn(self.cache.abandon(ctx.cache_slot))
