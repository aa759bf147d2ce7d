"""Presentation: what the caller's API shape sees of an answer, and the facts the edge turns into
`x-nextmodel-*` headers.

The rest of the chat path works on OpenAI chat bodies and chunks (what every adapter returns);
a `Presenter` turns those into the inbound API's shape. `OPENAI_CHAT` is the identity shape
plus the `nextmodel` object (in a stream: on the last chunk). Another inbound API (Responses,
Anthropic Messages) supplies its own presenter and reuses the rest of the flow.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from nextmodel.common.v1 import common_pb2
from nextmodel.router.v1 import router_pb2
from nextmodel_common import enums, money
from nextmodel_router import caching
from nextmodel_router import usage as usage_mod
from nextmodel_router.chat.context import ChatContext
from nextmodel_router.streaming import StreamAccumulator


class StreamView(Protocol):
    """One stream's presentation state: it also counts what was produced (usage, for settling)."""

    upstream_usage: dict | None

    def push(self, chunk: dict) -> dict | None:
        """Take one upstream chunk; return what to send now, if anything."""

    def flush(self) -> dict | None:
        """What is held back, sent before an error ends the stream."""

    def usage(self, request: dict) -> usage_mod.Usage: ...


View = TypeVar("View", bound=StreamView)


class Presenter(Protocol[View]):
    """One inbound API shape; `View` is its stream state (what `open_stream` makes)."""

    def completion(self, completion: dict, facts: router_pb2.ReceiptFacts) -> dict:
        """The unary answer body for a (fresh or replayed) chat.completion."""

    def open_stream(self, ctx: ChatContext) -> View: ...

    def stream_end(self, view: View, usage: usage_mod.Usage, facts: router_pb2.ReceiptFacts) -> list[dict]:
        """The payloads that end a successful stream."""

    def replay(self, completion: dict, facts: router_pb2.ReceiptFacts, ctx: ChatContext) -> list[dict]:
        """A stored chat.completion as this shape's stream payloads."""


class OpenAIChat:
    """OpenAI's chat.completion and chat.completion.chunk, with the `nextmodel` object added."""

    def completion(self, completion: dict, facts: router_pb2.ReceiptFacts) -> dict:
        completion["nextmodel"] = nextmodel_object(facts)
        return completion

    def open_stream(self, ctx: ChatContext) -> StreamAccumulator:
        return StreamAccumulator(include_usage=ctx.input.stream_usage_requested,
                                 prompt_estimate=ctx.plan.prompt_estimate)

    def stream_end(self, view: StreamAccumulator, usage: usage_mod.Usage,
                   facts: router_pb2.ReceiptFacts) -> list[dict]:
        return view.finish(usage, nextmodel_object(facts))

    def replay(self, completion: dict, facts: router_pb2.ReceiptFacts, ctx: ChatContext) -> list[dict]:
        chunks = caching.completion_to_chunks(completion, ctx.input.stream_usage_requested)
        chunks[-1]["nextmodel"] = nextmodel_object(facts)
        return chunks


OPENAI_CHAT = OpenAIChat()


def start_facts(ctx: ChatContext) -> router_pb2.ReceiptFacts:
    """What a fresh stream's headers can say before it is settled (its first event)."""
    route = ctx.served_route
    return router_pb2.ReceiptFacts(
        request_id=ctx.request_id, receipt_id=ctx.receipt_id, served_mode=common_pb2.SERVED_MODE_FRESH,
        usage_source=common_pb2.USAGE_SOURCE_UPSTREAM, provider=route.provider.id,
        requested_model=ctx.requested, served_model=route.id, price_version=route.price_version,
        route_reason=ctx.plan.reason, cache_status=ctx.cache_status,
    )


def nextmodel_object(facts: router_pb2.ReceiptFacts) -> dict:
    """The `nextmodel` object added to the response body (or the last stream chunk)."""
    return {
        "request_id": facts.request_id,
        "served_mode": enums.name(common_pb2.ServedMode, facts.served_mode) or "fresh",
        "usage_source": enums.name(common_pb2.UsageSource, facts.usage_source) or "upstream",
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
