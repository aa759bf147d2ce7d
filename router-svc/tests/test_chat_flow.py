"""The chat path end to end on in-memory fakes: no network, no processes, milliseconds each.

The fakes stand where the router's clients stand (billing, cache, credentials, one provider
adapter), so these tests hold the flow's rules: fallback, streams, reservations, settlement,
the cache lease and rate limits.
"""

from __future__ import annotations

import asyncio

import orjson
import pytest

from nextmodel.billing.v1 import billing_pb2
from nextmodel.cache.v1 import cache_pb2
from nextmodel.catalog.v1 import catalog_pb2
from nextmodel.common.v1 import common_pb2
from nextmodel.router.v1 import router_pb2
from nextmodel_common.errors import GatewayError
from nextmodel_router.adapters import UpstreamError, UpstreamResult
from nextmodel_router.catalog_copy import CatalogView
from nextmodel_router.chat import ChatFlow, ChatInput
from nextmodel_router.chat.presentation import OpenAIChat
from nextmodel_router.credentials import Credential
from nextmodel_router.ratelimit import MemoryCounters, RateLimiter

HELLO = [{"role": "user", "content": "hello"}]


# -- fakes ------------------------------------------------------------------------------


def catalog_view() -> CatalogView:
    def model(id: str) -> catalog_pb2.Model:
        return catalog_pb2.Model(
            id=id, provider="fake", upstream_id=id, context_window=128_000, max_output_tokens=1000,
            price=catalog_pb2.Price(version=f"{id}-v1", input_per_mtok_usd="1", output_per_mtok_usd="2"),
            capabilities=catalog_pb2.Capabilities(tools=True, streaming=True))

    return CatalogView(catalog_pb2.CatalogSnapshot(
        version="t", models=[model("primary"), model("backup")],
        providers=[catalog_pb2.Provider(id="fake", protocol="fake", env_prefix="FAKE")],
        policies=[catalog_pb2.Policy(name="chain", spec_json=orjson.dumps({"candidates": ["primary", "backup"]}))]))


class Catalog:
    def __init__(self) -> None:
        self.view = catalog_view()


def completion(model: str, text: str = "hi there") -> dict:
    return {"id": "cmpl-1", "object": "chat.completion", "created": 1, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}}


def chunk(model: str, text: str) -> dict:
    return {"id": "cmpl-1", "object": "chat.completion.chunk", "created": 1, "model": model,
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}


class Adapter:
    """A provider whose answer for each upstream model is scripted: a dict (the completion), a
    list (stream chunks; an exception in it is raised at that point), or an exception."""

    def __init__(self, script: dict) -> None:
        self.script = script
        self.calls: list[str] = []
        self.closed: list[str] = []
        self.gate: asyncio.Event | None = None  # when set, streams wait on it after the first chunk

    def check(self, provider, body) -> None:
        pass

    async def complete(self, call, body) -> UpstreamResult:
        self.calls.append(call.upstream_model)
        answer = self.script[call.upstream_model]
        if isinstance(answer, Exception):
            raise answer
        return UpstreamResult(response=dict(answer), latency_ms=5)

    async def stream(self, call, body):
        self.calls.append(call.upstream_model)
        answer = self.script[call.upstream_model]
        try:
            if isinstance(answer, Exception):
                raise answer
            for position, item in enumerate(answer):
                if isinstance(item, Exception):
                    raise item
                yield dict(item)
                if position == 0 and self.gate is not None:
                    await self.gate.wait()
        finally:
            self.closed.append(call.upstream_model)


class Credentials:
    def __init__(self, missing: frozenset[str] = frozenset()) -> None:
        self.missing = missing  # providers with no key

    async def resolve(self, provider, principal) -> Credential:
        return Credential("sk-test", "http://upstream.test", "platform")

    def configured(self, provider, principal) -> bool:
        return provider.id not in self.missing


class Billing:
    def __init__(self, *, reserve_fails: GatewayError | None = None) -> None:
        self.settled: list[billing_pb2.SettleRequest] = []
        self.opened: list[billing_pb2.SettleRequest] = []
        self.reserved: list[int] = []
        self.released: list[tuple[str, str]] = []
        self.reserve_fails = reserve_fails

    async def settle(self, request) -> None:
        self.settled.append(request)

    def stream_open(self, request) -> None:
        self.opened.append(request)

    async def reserve(self, request_id, principal, amount_nano_usd):
        if self.reserve_fails is not None:
            raise self.reserve_fails
        self.reserved.append(amount_nano_usd)
        return billing_pb2.Reservation(reservation_id=f"res-{len(self.reserved)}")

    async def release(self, reservation_id, request_id) -> None:
        self.released.append((reservation_id, request_id))


class Cache:
    """Answers every lookup with `answer` (None: the cache cannot be reached)."""

    def __init__(self, answer: cache_pb2.LookupResponse | None = None) -> None:
        self.answer = answer
        self.lookups: list[cache_pb2.LookupRequest] = []
        self.stored: list[cache_pb2.StoreRequest] = []
        self.abandoned: list[str] = []

    async def lookup(self, request, coalesce_timeout_ms=0):
        self.lookups.append(request)
        return self.answer

    async def store(self, request, *, linger=True):
        self.stored.append(request)
        return cache_pb2.StoreResponse(stored=True)

    async def abandon(self, cache_key) -> None:
        self.abandoned.append(cache_key)


def principal(**fields) -> billing_pb2.Principal:
    return billing_pb2.Principal(key_id="key-1", project_id="proj-1", **fields)


def flow(adapter: Adapter, *, billing: Billing | None = None, cache: Cache | None = None,
         counters: MemoryCounters | None = None, credentials: Credentials | None = None) -> ChatFlow:
    return ChatFlow(catalog=Catalog(), cache=cache or Cache(), billing=billing or Billing(),
                    credentials=credentials or Credentials(), adapters={"fake": adapter},
                    rate_limiter=RateLimiter(counters or MemoryCounters()))


def request(model: str = "nextmodel/chain", **body) -> router_pb2.ChatRequest:
    return router_pb2.ChatRequest(body_json=orjson.dumps({"model": model, "messages": HELLO, **body}), model=model)


async def finished(chat: ChatFlow) -> None:
    """Let the work a request left running (stores, releases, settlements) finish."""
    for _ in range(5):
        pending = chat.tasks.pending()
        if not pending:
            return
        await asyncio.gather(*pending)


async def events(stream) -> list[router_pb2.ChatStreamEvent]:
    return [event async for event in stream]


def chunks_of(received: list[router_pb2.ChatStreamEvent]) -> list[dict]:
    return [orjson.loads(e.chunk_json) for e in received if e.WhichOneof("event") == "chunk_json"]


UNAVAILABLE = UpstreamError("fake", "http", "down", status=503, retryable=True)


# -- fallback -----------------------------------------------------------------------------


async def test_a_retryable_failure_falls_back_to_the_next_candidate() -> None:
    adapter = Adapter({"primary": UNAVAILABLE, "backup": completion("backup")})
    billing = Billing()
    chat = flow(adapter, billing=billing)
    body_json, facts = await chat.complete(principal(), request())
    await finished(chat)
    assert adapter.calls == ["primary", "backup"]
    assert facts.served_model == "backup"
    assert [(a.model, a.outcome) for a in facts.attempts] == [("primary", "http_503"), ("backup", "ok")]
    body = orjson.loads(body_json)
    assert body["nextmodel"]["served_model"] == "backup" and body["nextmodel"]["receipt_id"] == facts.receipt_id
    (settled,) = billing.settled
    assert settled.status == "ok" and settled.served_model == "backup" and settled.receipt_id == facts.receipt_id
    assert [a.outcome for a in settled.attempts] == ["http_503", "ok"]


async def test_a_provider_with_no_key_is_a_400_before_any_reservation_or_call() -> None:
    adapter = Adapter({"primary": completion("primary"), "backup": completion("backup")})
    billing = Billing()
    chat = flow(adapter, billing=billing, credentials=Credentials(missing=frozenset({"fake"})))
    for stream in (False, True):
        with pytest.raises(GatewayError) as refused:
            if stream:
                await anext(chat.stream(principal(has_budget=True), request(model="primary", stream=True)))
            else:
                await chat.complete(principal(has_budget=True), request(model="primary"))
        error = refused.value
        assert (error.http_status, error.code, error.type) == (400, "provider_not_configured", "invalid_request_error")
        assert "FAKE_API_KEY" in error.message and "/provider-keys/fake" in error.message
    assert adapter.calls == [] and billing.reserved == [] and billing.settled == []


async def test_a_failure_that_is_not_retryable_is_the_callers_error_without_fallback() -> None:
    rejected = UpstreamError("fake", "http", "bad request", status=400)
    adapter = Adapter({"primary": rejected, "backup": completion("backup")})
    billing = Billing()
    chat = flow(adapter, billing=billing)
    with pytest.raises(GatewayError) as refused:
        await chat.complete(principal(), request())
    assert refused.value.http_status == 400 and refused.value.code == "upstream_rejected"
    assert adapter.calls == ["primary"] and billing.settled == []


async def test_the_last_candidates_retryable_failure_is_the_callers_error() -> None:
    adapter = Adapter({"primary": UNAVAILABLE, "backup": UpstreamError("fake", "timeout", "slow", retryable=True)})
    chat = flow(adapter)
    with pytest.raises(GatewayError) as refused:
        await chat.complete(principal(), request())
    assert refused.value.http_status == 504 and adapter.calls == ["primary", "backup"]


async def test_a_stream_that_fails_before_its_first_chunk_falls_back() -> None:
    adapter = Adapter({"primary": [UNAVAILABLE], "backup": [chunk("backup", "hi"), chunk("backup", "!")]})
    billing = Billing()
    chat = flow(adapter, billing=billing)
    received = await events(chat.stream(principal(), request(stream=True)))
    assert adapter.calls == ["primary", "backup"]
    assert received[0].start.served_model == "backup" and received[-1].final.served_model == "backup"
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks_of(received) if c["choices"]) == "hi!"
    assert chunks_of(received)[-1]["nextmodel"]["receipt_id"] == received[-1].final.receipt_id
    assert [(a.model, a.outcome) for a in received[-1].final.attempts] == [("primary", "http_503"), ("backup", "ok")]
    assert [s.status for s in billing.settled] == ["ok"]


async def test_an_empty_stream_counts_as_a_retryable_failure() -> None:
    adapter = Adapter({"primary": [], "backup": [chunk("backup", "hi")]})
    received = await events(flow(adapter).stream(principal(), request(stream=True)))
    assert [(a.model, a.outcome) for a in received[-1].final.attempts] == [("primary", "stream"), ("backup", "ok")]


async def test_no_fallback_once_the_first_chunk_was_sent() -> None:
    adapter = Adapter({"primary": [chunk("primary", "hel"), chunk("primary", "lo"), UNAVAILABLE],
                       "backup": [chunk("backup", "never")]})
    billing = Billing()
    chat = flow(adapter, billing=billing)
    received = await events(chat.stream(principal(), request(stream=True)))
    await finished(chat)
    assert adapter.calls == ["primary"], "a stream that started is never sent to another candidate"
    kinds = [e.WhichOneof("event") for e in received]
    assert kinds == ["start", "chunk_json", "chunk_json", "error"], "the held chunk is flushed before the error"
    assert received[-1].error.code == "upstream_error" and received[-1].error.http_status == 502
    (settled,) = billing.settled
    assert settled.status == "upstream_error" and settled.served_model == "primary"
    assert [a.outcome for a in settled.attempts] == ["ok", "http_503"]


# -- reservations ---------------------------------------------------------------------------


async def test_a_budgeted_request_that_fails_releases_its_reservation() -> None:
    adapter = Adapter({"primary": UNAVAILABLE, "backup": UNAVAILABLE})
    billing = Billing()
    chat = flow(adapter, billing=billing)
    with pytest.raises(GatewayError):
        await chat.complete(principal(has_budget=True), request())
    await finished(chat)
    assert len(billing.reserved) == 1 and billing.reserved[0] > 0
    assert [reservation for reservation, _ in billing.released] == ["res-1"]
    assert billing.settled == []


async def test_a_settled_request_does_not_release_its_reservation() -> None:
    billing = Billing()
    chat = flow(Adapter({"primary": completion("primary")}), billing=billing)
    _, facts = await chat.complete(principal(has_budget=True), request())
    await finished(chat)
    assert billing.released == [] and billing.settled[0].reservation_id == "res-1"


async def test_a_request_without_budget_reserves_nothing() -> None:
    billing = Billing()
    chat = flow(Adapter({"primary": completion("primary")}), billing=billing)
    await chat.complete(principal(), request())
    assert billing.reserved == [] and billing.settled[0].reservation_id == ""


async def test_billing_unreachable_refuses_a_budgeted_request_before_any_upstream_call() -> None:
    adapter = Adapter({"primary": completion("primary")})
    billing = Billing(reserve_fails=GatewayError(503, "The billing service is unavailable.",
                                                 code="service_unavailable"))
    with pytest.raises(GatewayError) as refused:
        await flow(adapter, billing=billing).complete(principal(has_budget=True), request())
    assert refused.value.http_status == 503 and refused.value.code == "billing_unavailable"
    assert adapter.calls == []


async def test_a_budget_refusal_passes_through_as_billing_said() -> None:
    billing = Billing(reserve_fails=GatewayError(402, "Budget exceeded.", code="budget_exceeded"))
    with pytest.raises(GatewayError) as refused:
        await flow(Adapter({}), billing=billing).complete(principal(has_budget=True), request())
    assert refused.value.http_status == 402 and refused.value.code == "budget_exceeded"


# -- a client that goes away ------------------------------------------------------------------


async def test_a_stream_the_client_abandons_is_settled_and_its_upstream_closed() -> None:
    adapter = Adapter({"primary": [chunk("primary", "one"), chunk("primary", "two"), chunk("primary", "three")]})
    adapter.gate = asyncio.Event()  # the upstream pauses after its first chunk
    billing = Billing()
    chat = flow(adapter, billing=billing)
    stream = chat.stream(principal(has_budget=True), request(stream=True))
    start = await anext(stream)
    assert start.WhichOneof("event") == "start" and len(billing.opened) == 1
    reading = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.01)
    reading.cancel()  # the client disconnects while the upstream is silent
    with pytest.raises(asyncio.CancelledError):
        await reading
    await stream.aclose()
    await finished(chat)
    assert adapter.closed == ["primary"], "the upstream call is closed with the stream"
    (settled,) = billing.settled
    assert settled.status == "client_cancelled" and settled.usage_source == common_pb2.USAGE_SOURCE_ESTIMATED
    assert settled.receipt_id == start.start.receipt_id and settled.reservation_id == "res-1"
    assert billing.released == [], "a settled stream's reservation is settled, not released"


async def test_an_open_stream_records_what_to_settle_were_the_router_killed() -> None:
    billing = Billing()
    chat = flow(Adapter({"primary": [chunk("primary", "hi")]}), billing=billing)
    received = await events(chat.stream(principal(), request(stream=True)))
    (opened,) = billing.opened
    assert opened.status == "interrupted" and opened.receipt_id == received[0].start.receipt_id
    assert [s.status for s in billing.settled] == ["ok"]


# -- the exact cache ------------------------------------------------------------------------------


def leading(slot: str = "ns:key") -> Cache:
    return Cache(cache_pb2.LookupResponse(cache_key=slot, hit=False, leader=True))


async def test_a_leader_whose_request_fails_abandons_the_key() -> None:
    cache = leading()
    chat = flow(Adapter({"primary": UNAVAILABLE, "backup": UNAVAILABLE}), cache=cache)
    with pytest.raises(GatewayError):
        await chat.complete(principal(cache_enabled=True), request(temperature=0))
    await finished(chat)
    assert cache.abandoned == ["ns:key"] and cache.stored == []


async def test_a_leader_whose_stream_fails_midway_abandons_the_key() -> None:
    cache = leading()
    chat = flow(Adapter({"primary": [chunk("primary", "a"), UNAVAILABLE]}), cache=cache)
    received = await events(chat.stream(principal(cache_enabled=True), request(temperature=0, stream=True)))
    await finished(chat)
    assert received[-1].WhichOneof("event") == "error"
    assert cache.abandoned == ["ns:key"] and cache.stored == []


async def test_a_leader_that_answers_stores_instead_of_abandoning() -> None:
    cache = leading()
    chat = flow(Adapter({"primary": completion("primary")}), cache=cache)
    _, facts = await chat.complete(principal(cache_enabled=True), request(temperature=0))
    await finished(chat)
    assert cache.abandoned == []
    (stored,) = cache.stored
    assert stored.cache_key == "ns:key" and stored.entry.receipt_id == facts.receipt_id
    assert facts.cache_status == "miss"


async def test_a_hit_is_replayed_and_settled_without_an_upstream_call() -> None:
    entry = cache_pb2.CacheEntry(response_json=orjson.dumps(completion("primary", "cached")), receipt_id="rcpt-old",
                                 provider="fake", served_model="primary")
    cache = Cache(cache_pb2.LookupResponse(cache_key="ns:key", hit=True, entry=entry))
    adapter, billing = Adapter({}), Billing()
    chat = flow(adapter, billing=billing, cache=cache)
    body_json, facts = await chat.complete(principal(cache_enabled=True, cache_discount_bps=5000),
                                           request(temperature=0))
    assert adapter.calls == []
    assert facts.served_mode == common_pb2.SERVED_MODE_EXACT_CACHE and facts.replayed_receipt_id == "rcpt-old"
    assert facts.discount_nano_usd * 2 == facts.list_cost_nano_usd
    assert orjson.loads(body_json)["choices"][0]["message"]["content"] == "cached"
    (settled,) = billing.settled
    assert settled.served_mode == common_pb2.SERVED_MODE_EXACT_CACHE and settled.credential_source == "none"


async def test_a_hit_replays_as_a_stream() -> None:
    entry = cache_pb2.CacheEntry(response_json=orjson.dumps(completion("primary", "cached")), receipt_id="rcpt-old",
                                 provider="fake", served_model="primary")
    cache = Cache(cache_pb2.LookupResponse(cache_key="ns:key", hit=True, entry=entry))
    received = await events(flow(Adapter({}), cache=cache).stream(
        principal(cache_enabled=True), request(temperature=0, stream=True)))
    assert received[0].start.served_mode == common_pb2.SERVED_MODE_EXACT_CACHE
    assert chunks_of(received)[-1]["nextmodel"]["replayed_receipt_id"] == "rcpt-old"


async def test_a_cache_that_cannot_be_reached_means_fresh() -> None:
    cache = Cache(None)
    chat = flow(Adapter({"primary": completion("primary")}), cache=cache)
    _, facts = await chat.complete(principal(cache_enabled=True), request(temperature=0))
    assert facts.cache_status == "unavailable" and len(cache.lookups) == 1


async def test_a_sampled_request_is_not_looked_up() -> None:
    cache = leading()
    _, facts = await flow(Adapter({"primary": completion("primary")}), cache=cache).complete(
        principal(cache_enabled=True), request())  # OpenAI's default temperature is 1
    assert facts.cache_status == "not_cacheable" and cache.lookups == []


# -- rate limits ------------------------------------------------------------------------------------


async def test_a_key_over_its_request_rate_is_refused_before_any_upstream_call() -> None:
    adapter = Adapter({"primary": completion("primary")})
    chat = flow(adapter)
    limited = principal(requests_per_minute=2)
    await chat.complete(limited, request())
    await chat.complete(limited, request())
    with pytest.raises(GatewayError) as refused:
        await chat.complete(limited, request())
    assert refused.value.http_status == 429 and refused.value.code == "rate_limit_exceeded"
    assert refused.value.retry_after_seconds > 0
    assert len(adapter.calls) == 2


async def test_tokens_spent_count_against_the_key_s_token_rate() -> None:
    adapter = Adapter({"primary": completion("primary")})  # 7 + 3 tokens per answer
    chat = flow(adapter)
    limited = principal(tokens_per_minute=15)
    await chat.complete(limited, request())
    with pytest.raises(GatewayError) as refused:
        await chat.complete(limited, request())
    assert refused.value.code == "rate_limit_exceeded" and len(adapter.calls) == 1


async def test_a_rate_limit_store_that_is_down_admits() -> None:
    class Broken(MemoryCounters):
        async def incr(self, key, amount, ttl):
            raise ConnectionError("redis is down")

    adapter = Adapter({"primary": completion("primary")})
    chat = flow(adapter, counters=Broken())
    for _ in range(3):
        await chat.complete(principal(requests_per_minute=1), request())
    assert len(adapter.calls) == 3


# -- another inbound API shape --------------------------------------------------------------------


async def test_another_api_shape_reuses_the_flow_through_its_presenter() -> None:
    class Shouting(OpenAIChat):
        """A stand-in for another inbound API: its own answer shape, the same flow."""

        def completion(self, completion, facts):
            return {"said": completion["choices"][0]["message"]["content"].upper(), "receipt": facts.receipt_id}

    billing = Billing()
    chat = flow(Adapter({"primary": completion("primary")}), billing=billing)
    given = ChatInput(body={"model": "primary", "messages": HELLO}, body_json=b"{}", requested="primary", policy="",
                      tags={}, request_id="req-1", cache_mode=router_pb2.CACHE_MODE_UNSPECIFIED)
    body_json, facts = await chat.answer(principal(), given, Shouting())
    assert orjson.loads(body_json) == {"said": "HI THERE", "receipt": facts.receipt_id}
    assert facts.request_id == "req-1" and billing.settled[0].request_id == "req-1"
