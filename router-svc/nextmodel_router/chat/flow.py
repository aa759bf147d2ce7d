"""The chat-completion flow: plan, admit, look up the cache, call the candidates, settle, answer.

This is the product's request path, strung together from the steps of this package; each
step's rules live in its own module. `answer` / `answer_stream` take any inbound API shape
(a `ChatInput` and a `Presenter`); `complete` / `stream` are OpenAI's chat completions.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any, TypeAlias

import orjson

from nextmodel.billing.v1 import billing_pb2
from nextmodel.cache.v1 import cache_pb2
from nextmodel.router.v1 import router_pb2
from nextmodel_common import ids
from nextmodel_router import caching
from nextmodel_router import usage as usage_mod
from nextmodel_router.adapters import Adapter, UpstreamError
from nextmodel_router.catalog_copy import CatalogCopy
from nextmodel_router.chat import compare as compare_mod
from nextmodel_router.chat import quoting
from nextmodel_router.chat.admission import Admission
from nextmodel_router.chat.attempts import Attempts, upstream_gateway_error
from nextmodel_router.chat.background import BackgroundTasks
from nextmodel_router.chat.cache_step import CacheStep
from nextmodel_router.chat.context import ChatContext
from nextmodel_router.chat.planning import Planner
from nextmodel_router.chat.presentation import OPENAI_CHAT, Presenter, start_facts
from nextmodel_router.chat.request import ChatInput, read_chat_request
from nextmodel_router.chat.settlement import Settlement
from nextmodel_router.clients import BillingClient, CacheClient, LatencyReporter
from nextmodel_router.credentials import Credentials
from nextmodel_router.ratelimit import RateLimiter
from nextmodel_router.streaming import openai_usage

# How often an open stream refreshes what it would settle were the router killed (outbox.py).
STREAM_CHECKPOINT_SECONDS = 5.0

Event: TypeAlias = router_pb2.ChatStreamEvent


class ChatFlow:
    def __init__(self, catalog: CatalogCopy, cache: CacheClient, billing: BillingClient,
                 credentials: Credentials, adapters: dict[str, Adapter], rate_limiter: RateLimiter,
                 coalesce_timeout_ms: int = 15_000, latency: LatencyReporter | None = None,
                 tasks: BackgroundTasks | None = None) -> None:
        self.tasks = tasks if tasks is not None else BackgroundTasks()
        self.planner = Planner(catalog, adapters, credentials)
        self.admission = Admission(rate_limiter, billing, self.tasks)
        self.settlement = Settlement(billing, rate_limiter)
        self.cache_step = CacheStep(cache, self.planner, self.admission, self.settlement, self.tasks,
                                    coalesce_timeout_ms)
        self.attempts = Attempts(adapters, credentials, latency)

    # -- OpenAI chat completions, quote and compare ---------------------------------------

    async def complete(self, principal: billing_pb2.Principal,
                       request: router_pb2.ChatRequest) -> tuple[bytes, router_pb2.ReceiptFacts]:
        return await self.answer(principal, read_chat_request(request), OPENAI_CHAT)

    def stream(self, principal: billing_pb2.Principal, request: router_pb2.ChatRequest) -> AsyncIterator[Event]:
        return self.answer_stream(principal, read_chat_request(request), OPENAI_CHAT)

    def quote(self, principal: billing_pb2.Principal, request: router_pb2.QuoteRequest) -> router_pb2.QuoteResponse:
        return quoting.quote(self.planner, principal, request)

    async def compare(self, principal: billing_pb2.Principal,
                      request: router_pb2.CompareRequest) -> router_pb2.CompareResponse:
        return await compare_mod.compare(self.complete, principal, request)

    # -- any inbound API shape ------------------------------------------------------------

    async def answer(self, principal: billing_pb2.Principal, chat: ChatInput,
                     presenter: Presenter[Any]) -> tuple[bytes, router_pb2.ReceiptFacts]:
        ctx = self._begin(principal, chat)
        await self.admission.rate_limit(ctx)
        try:
            entry = await self.cache_step.lookup(ctx)
            if entry is not None:
                completion, facts = await self.cache_step.replay(ctx, entry)
            else:
                await self.admission.reserve_worst_case(ctx)
                completion, facts = await self._fresh(ctx)
            return orjson.dumps(presenter.completion(completion, facts)), facts
        finally:
            self._end(ctx)

    async def answer_stream(self, principal: billing_pb2.Principal, chat: ChatInput,
                            presenter: Presenter[Any]) -> AsyncIterator[Event]:
        ctx = self._begin(principal, chat)
        await self.admission.rate_limit(ctx)
        try:
            entry = await self.cache_step.lookup(ctx)
            if entry is not None:
                events = self._replay_stream(ctx, entry, presenter)
            else:
                await self.admission.reserve_worst_case(ctx)
                events = self._fresh_stream(ctx, presenter)
            async for event in events:
                yield event
        finally:
            self._end(ctx)

    def _begin(self, principal: billing_pb2.Principal, chat: ChatInput) -> ChatContext:
        plan = self.planner.plan(principal, chat)
        return ChatContext(principal, chat, plan, chat.request_id or ids.new_request_id())

    def _end(self, ctx: ChatContext) -> None:
        self.admission.release_if_unsettled(ctx)
        self.cache_step.abandon_if_leading(ctx)

    # -- fresh answers ----------------------------------------------------------------------

    async def _fresh(self, ctx: ChatContext) -> tuple[dict, router_pb2.ReceiptFacts]:
        won = await self.attempts.complete(ctx)
        response = won.value.response
        usage = usage_mod.from_response(response, ctx.body)
        ctx.receipt_id = ids.new_receipt_id()
        facts = await self.settlement.settle(ctx, usage, "ok")
        won.finish(facts, str(response.get("model", "")))
        await self.cache_step.store(ctx, response, facts)
        return response, facts

    async def _replay_stream(self, ctx: ChatContext, entry: cache_pb2.CacheEntry,
                             presenter: Presenter[Any]) -> AsyncIterator[Event]:
        completion, facts = await self.cache_step.replay(ctx, entry)
        yield Event(start=facts)
        for chunk in presenter.replay(completion, facts, ctx):
            yield Event(chunk_json=orjson.dumps(chunk))
        yield Event(final=facts)

    async def _fresh_stream(self, ctx: ChatContext, presenter: Presenter[Any]) -> AsyncIterator[Event]:
        won = await self.attempts.open_stream(ctx)  # no other candidate once this one has sent a chunk
        chunks, first = won.value
        ctx.receipt_id = ids.new_receipt_id()
        view = presenter.open_stream(ctx)
        # Should this process die mid-stream, its next start settles this record (outbox.py).
        self.settlement.checkpoint(ctx, view.usage(ctx.body))
        checkpoint_at = time.monotonic() + STREAM_CHECKPOINT_SECONDS
        yield Event(start=start_facts(ctx))
        answer = caching.CompletionBuilder()
        failure: UpstreamError | None = None
        try:
            answer.add(first)
            ready = view.push(first)
            if ready is not None:
                yield Event(chunk_json=orjson.dumps(ready))
            async for chunk in chunks:
                answer.add(chunk)
                ready = view.push(chunk)
                if ready is not None:
                    yield Event(chunk_json=orjson.dumps(ready))
                if time.monotonic() >= checkpoint_at:
                    self.settlement.checkpoint(ctx, view.usage(ctx.body))
                    checkpoint_at = time.monotonic() + STREAM_CHECKPOINT_SECONDS
        except UpstreamError as error:
            failure = error
        except (asyncio.CancelledError, GeneratorExit):
            # The client went away: the upstream call is closed with this generator; what was
            # produced so far is still billed (and never cached), settled where cancellation
            # cannot reach.
            await chunks.aclose()
            won.cancelled()
            ctx.settled = True
            self.tasks.spawn(self.settlement.settle(ctx, view.usage(ctx.body), "client_cancelled"))
            raise
        usage = view.usage(ctx.body)
        if failure is not None:
            self.attempts.failed(ctx, ctx.served_route, won.span, won.started, failure)
            await self.settlement.settle(ctx, usage, "upstream_error")
            held = view.flush()
            if held is not None:
                yield Event(chunk_json=orjson.dumps(held))
            yield Event(error=upstream_gateway_error(failure).to_proto())
            return
        self.attempts.stream_done(ctx, won)
        facts = await self.settlement.settle(ctx, usage, "ok")
        won.finish(facts, str(answer.head.get("model", "")))
        await self.cache_step.store(ctx, answer.completion(view.upstream_usage or openai_usage(usage)), facts)
        for chunk in presenter.stream_end(view, usage, facts):
            yield Event(chunk_json=orjson.dumps(chunk))
        yield Event(final=facts)

