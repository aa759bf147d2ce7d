"""Attempts: the one candidate loop, for unary answers and streams alike.

Each candidate is called inside its model-call span (`observe.py`). A retryable failure (429,
5xx, 529, timeout, connection, no credential, an empty stream) moves to the next candidate;
any other failure, or the last candidate's, is the caller's error. A stream counts as answered
at its first chunk: after that no other candidate is tried, a failure ends the stream.
Every attempt is recorded on the context (the receipt lists them) and reported to the catalog's
latency figures.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from opentelemetry import context as otel_context
from opentelemetry import trace

from nextmodel.common.v1 import common_pb2
from nextmodel.router.v1 import router_pb2
from nextmodel_common.errors import GatewayError
from nextmodel_router import observe
from nextmodel_router.adapters import Adapter, ProviderCall, UpstreamError, UpstreamResult
from nextmodel_router.catalog_copy import ModelRoute
from nextmodel_router.chat.context import ChatContext
from nextmodel_router.clients import LatencyReporter
from nextmodel_router.credentials import Credentials

log = logging.getLogger(__name__)

# How one candidate is called: (adapter, call, body) -> what the caller gets when it answers.
Open = Callable[[Adapter, ProviderCall, dict], Awaitable]


class Won:
    """The candidate that answered: its span (still open), when it started, and its answer."""

    __slots__ = ("span", "started", "value", "first_token_ms")

    def __init__(self, span, started: float, value) -> None:
        self.span = span
        self.started = started
        self.value = value
        self.first_token_ms = 0

    def finish(self, facts: router_pb2.ReceiptFacts, response_model: str) -> None:
        observe.finish_model_span(self.span, facts, response_model=response_model)

    def cancelled(self) -> None:
        observe.finish_model_span(self.span, None, error="client_cancelled")


class Attempts:
    def __init__(self, adapters: dict[str, Adapter], credentials: Credentials,
                 latency: LatencyReporter | None = None) -> None:
        self.adapters = adapters
        self.credentials = credentials
        self.latency = latency

    async def complete(self, ctx: ChatContext) -> Won:
        """The first candidate's complete answer (`Won.value`: an UpstreamResult)."""
        won = await self._first_answer(ctx, _complete)
        latency_ms = won.value.latency_ms
        self._answered(ctx, latency_ms)
        self.observe(ctx.served_route, latency_ms, latency_ms, False)
        return won

    async def open_stream(self, ctx: ChatContext) -> Won:
        """The first candidate whose stream yields a chunk (`Won.value`: (chunks, first chunk))."""
        won = await self._first_answer(ctx, _open_stream)
        won.first_token_ms = int((time.perf_counter() - won.started) * 1000)
        self._answered(ctx, won.first_token_ms)
        return won

    def stream_done(self, ctx: ChatContext, won: Won) -> None:
        self.observe(ctx.served_route, won.first_token_ms, int((time.perf_counter() - won.started) * 1000), False)

    async def _first_answer(self, ctx: ChatContext, open_one: Open) -> Won:
        candidates = ctx.plan.candidates
        for position, route in enumerate(candidates):
            started = time.perf_counter()
            span = observe.model_span(route.provider.id, route.upstream_id, ctx.body, ctx.principal.project_id)
            attached = otel_context.attach(trace.set_span_in_context(span))
            try:
                call, credential_source = await self._call(route, ctx)
                value = await open_one(self.adapters[route.provider.protocol], call, ctx.body)
            except UpstreamError as failure:
                self.failed(ctx, route, span, started, failure)
                if failure.retryable and position + 1 < len(candidates):
                    continue
                raise upstream_gateway_error(failure) from None
            finally:
                otel_context.detach(attached)
            ctx.route, ctx.credential_source = route, credential_source
            return Won(span, started, value)
        raise AssertionError("a plan always has a candidate")

    async def _call(self, route: ModelRoute, ctx: ChatContext) -> tuple[ProviderCall, str]:
        credential = await self.credentials.resolve(route.provider, ctx.principal)
        if not credential.api_key:
            raise UpstreamError(route.provider.id, "not_configured",
                                f"{route.provider.id} has no API key configured "
                                f"(set {route.provider.env_prefix}_API_KEY or store a project key)", retryable=True)
        return ProviderCall(route.provider, credential, route.upstream_id, route.max_output_tokens), credential.source

    def _answered(self, ctx: ChatContext, latency_ms: int) -> None:
        route = ctx.served_route
        ctx.attempts.append(common_pb2.Attempt(provider=route.provider.id, model=route.id, outcome="ok",
                                               latency_ms=latency_ms))

    def failed(self, ctx: ChatContext, route: ModelRoute, span, started: float, failure: UpstreamError) -> None:
        """Close the attempt's span and record it as failed (also for a stream that broke midway)."""
        observe.finish_model_span(span, None, error=failure.outcome)
        elapsed = int((time.perf_counter() - started) * 1000)
        if failure.kind != "not_configured":
            self.observe(route, elapsed, elapsed, True)
        ctx.attempts.append(common_pb2.Attempt(provider=route.provider.id, model=route.id, outcome=failure.outcome,
                                               latency_ms=elapsed))
        log.warning("upstream attempt failed", extra={"fields": {
            "request_id": ctx.request_id, "provider": route.provider.id, "model": route.id,
            "outcome": failure.outcome, "retryable": failure.retryable}})

    def observe(self, route: ModelRoute, ttft_ms: int, total_ms: int, error: bool) -> None:
        if self.latency is not None:
            self.latency.observe(route.id, route.provider.id, ttft_ms, total_ms, error)


def _complete(adapter: Adapter, call: ProviderCall, body: dict) -> Awaitable[UpstreamResult]:
    return adapter.complete(call, body)


async def _open_stream(adapter: Adapter, call: ProviderCall, body: dict) -> tuple[AsyncIterator[dict], dict]:
    chunks = adapter.stream(call, body)
    try:
        first = await anext(chunks)
    except StopAsyncIteration:
        raise UpstreamError(call.provider.id, "stream", f"{call.provider.id} sent an empty stream",
                            retryable=True) from None
    return chunks, first


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
