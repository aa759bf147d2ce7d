"""The exact cache through the real stack, with the in-process store and with Redis."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import httpx
import openai
import orjson
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from tests.conftest import provider_env
from tests.support.accounts import new_account, settled_usage
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

QUESTION = [{"role": "user", "content": "ما هي عاصمة المملكة العربية السعودية؟"}]
WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}


def client_for(stack, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=stack.base_url, api_key=key, max_retries=0)


def receipt(stack, key: str, receipt_id: str) -> dict:
    return httpx.get(f"{stack.base_url}/receipts/{receipt_id}", headers={"authorization": f"Bearer {key}"}).json()


def ask(client, **overrides):
    body = {"model": "gpt-4o-mini", "messages": QUESTION, "temperature": 0, **overrides}
    return client.chat.completions.with_raw_response.create(**body)


def collect_stream(client, **overrides) -> tuple[list[ChatCompletionChunk], httpx.Headers]:
    raw = client.chat.completions.with_raw_response.create(
        **{"model": "gpt-4o-mini", "messages": QUESTION, "temperature": 0, "stream": True, **overrides})
    return [ChatCompletionChunk.model_validate(c.model_dump()) for c in raw.parse()], raw.headers


def answer_of(chunks: list[ChatCompletionChunk]) -> dict:
    content, calls, usage = [], {}, None
    for chunk in chunks:
        usage = chunk.usage or usage
        for choice in chunk.choices:
            content.append(choice.delta.content or "")
            for delta in choice.delta.tool_calls or ():
                call = calls.setdefault(delta.index, {"id": None, "name": "", "arguments": ""})
                call["id"] = delta.id or call["id"]
                call["name"] += (delta.function.name or "") if delta.function else ""
                call["arguments"] += (delta.function.arguments or "") if delta.function else ""
    return {"content": "".join(content) or None, "tool_calls": [calls[i] for i in sorted(calls)],
            "usage": usage.model_dump(exclude_none=True) if usage else None}


def answer_of_completion(completion: ChatCompletion) -> dict:
    message = completion.choices[0].message
    return {"content": message.content,
            "tool_calls": [{"id": c.id, "name": c.function.name, "arguments": c.function.arguments}
                           for c in message.tool_calls or ()],
            "usage": completion.usage.model_dump(exclude_none=True)}


def test_the_second_identical_request_is_replayed_at_a_discount(any_stack, fake_upstream) -> None:
    stack = any_stack
    account = new_account(stack)
    client = client_for(stack, account.key)
    first = ask(client)
    assert first.headers["x-nextmodel-served-mode"] == "fresh"
    assert first.headers["x-nextmodel-cache-status"] == "miss"
    calls = fake_upstream.calls
    second = ask(client)
    assert fake_upstream.calls == calls, "a hit never calls the upstream"
    assert second.headers["x-nextmodel-served-mode"] == "exact_cache"
    assert second.headers["x-nextmodel-usage-source"] == "replayed"
    assert second.headers["x-nextmodel-cache-status"] == "hit"
    assert second.parse().choices == first.parse().choices
    fresh = receipt(stack, account.key, first.headers["x-nextmodel-receipt-id"])
    hit = receipt(stack, account.key, second.headers["x-nextmodel-receipt-id"])
    assert hit["served_mode"] == "exact_cache" and hit["usage_source"] == "replayed"
    assert hit["replayed_receipt_id"] == fresh["id"]
    assert hit["list_cost_nano_usd"] == fresh["list_cost_nano_usd"]
    assert hit["discount_nano_usd"] == fresh["list_cost_nano_usd"] // 2
    assert hit["charged_cost_nano_usd"] == hit["list_cost_nano_usd"] - hit["discount_nano_usd"]
    assert Decimal(second.headers["x-nextmodel-cost-usd"]) * 10**9 == hit["charged_cost_nano_usd"]
    assert hit["saving_usd"] == hit["discount_usd"]

    settled_usage(stack, account.key, 2)
    stats = httpx.get(f"{stack.base_url}/cache/stats", headers={"authorization": f"Bearer {account.key}"}).json()
    assert stats["hits"] == 1 and stats["misses"] == 1 and stats["hit_rate"] == 0.5
    assert stats["entries"] == 1 and stats["bytes"] > 0
    assert stats["saved_nano_usd"] == hit["discount_nano_usd"]


@pytest.mark.parametrize("change", [
    {"messages": [{"role": "user", "content": "ما هي عاصمة المملكة العربية السعودية؟ "}]},
    {"messages": [{"role": "user", "content": "ما هيَ عاصمة المملكة العربية السعودية؟"}]},
    {"temperature": 0.7},
    {"tools": [WEATHER_TOOL]},
    {"response_format": {"type": "json_object"}},
    {"extra_body": {"a_field_from_the_future": 1}},
    {"max_tokens": 77},
    {"model": "gpt-4.1"},
])
def test_any_semantic_change_is_a_miss(stack, fake_upstream, change) -> None:
    account = new_account(stack, cache={"cache_sampled": True})
    client = client_for(stack, account.key)
    ask(client, temperature=0.2)
    ask(client, temperature=0.2)  # the unchanged request hits
    calls = fake_upstream.calls
    changed = ask(client, **{"temperature": 0.2, **change})
    assert changed.headers["x-nextmodel-served-mode"] == "fresh"
    assert fake_upstream.calls == calls + 1


def test_fields_that_cannot_change_the_answer_still_hit(stack) -> None:
    account = new_account(stack)
    client = client_for(stack, account.key)
    ask(client, user="alice", metadata={"run": "1"})
    hit = ask(client, user="bob", metadata={"run": "2"}, store=True)
    assert hit.headers["x-nextmodel-served-mode"] == "exact_cache"


def test_another_project_never_sees_the_entry(any_stack) -> None:
    alice, bob = new_account(any_stack), new_account(any_stack)
    ask(client_for(any_stack, alice.key))
    assert ask(client_for(any_stack, bob.key)).headers["x-nextmodel-served-mode"] == "fresh"


def test_a_team_may_share_its_cache_across_projects(stack) -> None:
    with stack.admin() as admin:
        team = admin.post("/admin/v1/teams", json={"name": "sharing team", "cache_shared": True}).json()
    first, second = new_account(stack, team_id=team["id"]), new_account(stack, team_id=team["id"])
    ask(client_for(stack, first.key))
    assert ask(client_for(stack, second.key)).headers["x-nextmodel-served-mode"] == "exact_cache"


def test_sampled_requests_are_not_cached_by_default(stack, fake_upstream) -> None:
    account = new_account(stack)
    client = client_for(stack, account.key)
    for _ in range(2):
        raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=QUESTION)
        assert raw.headers["x-nextmodel-served-mode"] == "fresh"
        assert raw.headers["x-nextmodel-cache-status"] == "not_cacheable"


def test_per_request_controls(stack, fake_upstream) -> None:
    account = new_account(stack)
    client = client_for(stack, account.key)
    ask(client)
    off = ask(client, extra_headers={"x-nextmodel-cache": "off"})
    assert off.headers["x-nextmodel-served-mode"] == "fresh" and off.headers["x-nextmodel-cache-status"] == "off"
    refreshed = ask(client, extra_headers={"x-nextmodel-cache": "refresh"})
    assert refreshed.headers["x-nextmodel-served-mode"] == "fresh"
    hit = ask(client)
    assert hit.headers["x-nextmodel-served-mode"] == "exact_cache"
    assert receipt(stack, account.key, hit.headers["x-nextmodel-receipt-id"])["replayed_receipt_id"] == \
        refreshed.headers["x-nextmodel-receipt-id"], "refresh stored its answer anew"


@pytest.mark.parametrize("tools", [False, True])
def test_streams_and_non_streams_replay_each_other_exactly(any_stack, tools) -> None:
    extra = {"tools": [WEATHER_TOOL]} if tools else {}
    account = new_account(any_stack)
    client = client_for(any_stack, account.key)
    # non-stream stored, stream replayed
    stored = ChatCompletion.model_validate_json(ask(client, **extra).content)
    replayed, headers = collect_stream(client, stream_options={"include_usage": True}, **extra)
    assert headers["x-nextmodel-served-mode"] == "exact_cache"
    assert answer_of(replayed) == answer_of_completion(stored)
    assert replayed[-1].choices == [] and replayed[-1].usage is not None
    assert replayed[-1].model_extra["nextmodel"]["served_mode"] == "exact_cache"
    # stream stored, non-stream replayed (another question, so the entry comes from the stream)
    other = [{"role": "user", "content": "And the capital of Egypt?"}]
    streamed, headers = collect_stream(client, messages=other, stream_options={"include_usage": True}, **extra)
    assert headers["x-nextmodel-served-mode"] == "fresh"
    again = ask(client, messages=other, **extra)
    assert again.headers["x-nextmodel-served-mode"] == "exact_cache"
    assert answer_of_completion(ChatCompletion.model_validate_json(again.content)) == answer_of(streamed)
    # a stream without the usage chunk gets none on replay either
    quiet, _ = collect_stream(client, **extra)
    assert all(chunk.usage is None for chunk in quiet)


def test_an_interrupted_stream_is_never_stored(stack, fake_upstream) -> None:
    account = new_account(stack)
    fake_upstream.slow_next_stream(0.05)
    words = " ".join(f"word{i}" for i in range(80))
    body = {"model": "gpt-4o-mini", "stream": True, "temperature": 0,
            "messages": [{"role": "user", "content": words}]}
    with httpx.stream("POST", f"{stack.base_url}/chat/completions", json=body, timeout=10,
                      headers={"authorization": f"Bearer {account.key}"}) as response:
        for index, _ in enumerate(response.iter_lines()):
            if index > 6:
                break
    time.sleep(0.5)
    again = ask(client_for(stack, account.key), messages=body["messages"])
    assert again.headers["x-nextmodel-served-mode"] == "fresh"


def test_an_upstream_error_mid_stream_is_never_stored(stack, fake_upstream) -> None:
    account = new_account(stack)
    client = client_for(stack, account.key)
    fake_upstream.break_next_stream(after_events=3)
    with pytest.raises(openai.APIError):
        collect_stream(client)
    assert ask(client).headers["x-nextmodel-served-mode"] == "fresh"


def test_a_fallback_answer_is_never_served_for_the_primary_model(stack, fake_upstream) -> None:
    account = new_account(stack)
    client = client_for(stack, account.key)
    fake_upstream.fail_next(503)
    via_policy = ask(client, extra_headers={"x-nextmodel-policy": "reliable-chat"})
    assert via_policy.headers["x-nextmodel-provider"] == "deepseek"
    primary = ask(client)
    assert primary.headers["x-nextmodel-served-mode"] == "fresh"
    assert primary.headers["x-nextmodel-provider"] == "openai"


async def test_identical_concurrent_misses_make_one_upstream_call(any_stack, fake_upstream) -> None:
    account = new_account(any_stack)
    fake_upstream.delay_next(0.5)
    calls = fake_upstream.calls
    body = {"model": "gpt-4o-mini", "temperature": 0, "messages": [{"role": "user", "content": "coalesce me"}]}
    async with httpx.AsyncClient(timeout=30, headers={"authorization": f"Bearer {account.key}"}) as http:
        answers = await asyncio.gather(*(http.post(f"{any_stack.base_url}/chat/completions", json=body)
                                         for _ in range(20)))
    assert [a.status_code for a in answers] == [200] * 20
    assert fake_upstream.calls == calls + 1
    modes = sorted(a.headers["x-nextmodel-served-mode"] for a in answers)
    assert modes == ["exact_cache"] * 19 + ["fresh"]
    assert len({a.json()["choices"][0]["message"]["content"] for a in answers}) == 1


def test_a_cache_that_is_down_never_fails_a_request(fake_upstream, tmp_path) -> None:
    stack = Stack(tmp_path, {**provider_env(fake_upstream),
                             "NEXTMODEL_REDIS_URL": "redis://127.0.0.1:9/0"}).start()  # nothing listens there
    try:
        client = client_for(stack, stack.dev_key)
        for _ in range(2):
            raw = ask(client)
            assert raw.headers["x-nextmodel-served-mode"] == "fresh"
            assert raw.headers["x-nextmodel-cache-status"] == "unavailable"
        stack.stop_service("cache")
        raw = ask(client)
        assert raw.headers["x-nextmodel-served-mode"] == "fresh"
        assert raw.headers["x-nextmodel-cache-status"] == "unavailable"
    finally:
        stack.stop()


def test_an_oversized_answer_is_served_but_not_stored(fake_upstream, tmp_path) -> None:
    stack = Stack(tmp_path, {**provider_env(fake_upstream), "NEXTMODEL_CACHE_MAX_ENTRY_BYTES": "300"}).start()
    try:
        client = client_for(stack, stack.dev_key)
        assert ask(client).parse().choices[0].message.content.startswith("echo:")
        # The router sends stores in batches a few milliseconds after answering; until the store
        # lands, an identical request waits for it (and is answered from it). After, it must miss.
        time.sleep(0.3)
        assert ask(client).headers["x-nextmodel-served-mode"] == "fresh"
    finally:
        stack.stop()




async def test_coalescing_works_across_replicas_sharing_redis(prod_stack, fake_upstream) -> None:
    """Two routers, each with its own cache replica, on one Redis: one upstream call for all."""
    import grpc

    from nextmodel.common.v1 import common_pb2
    from nextmodel.router.v1 import router_pb2, router_pb2_grpc
    from tests.support.stack import free_port

    stack = prod_stack
    if "router@second" not in stack.processes:
        cache_port, router_port = free_port(), free_port()
        stack.start_replica("cache", cache_port, {})
        stack.start_replica("router", router_port, {"NEXTMODEL_CACHE_ADDR": f"127.0.0.1:{cache_port}"})
        stack.ports["router@second"] = router_port
        stack.processes["router@second"] = stack.processes[f"router@{router_port}"]
    account = new_account(stack)
    body = {"model": "gpt-4o-mini", "temperature": 0, "messages": [{"role": "user", "content": "two replicas"}]}
    fake_upstream.delay_next(0.6)
    calls = fake_upstream.calls

    async def via_second_router() -> int:
        async with grpc.aio.insecure_channel(stack.addr("router@second")) as channel:
            answer = await router_pb2_grpc.RouterServiceStub(channel).ChatCompletion(
                router_pb2.ChatRequest(body_json=orjson.dumps(body), model=body["model"]),
                metadata=(("authorization", f"Bearer {account.key}"),), timeout=30)
            return answer.receipt.served_mode

    async with httpx.AsyncClient(timeout=30, headers={"authorization": f"Bearer {account.key}"}) as http:
        first = asyncio.create_task(http.post(f"{stack.base_url}/chat/completions", json=body))
        await asyncio.sleep(0.1)  # the first request leads
        results = await asyncio.gather(*(http.post(f"{stack.base_url}/chat/completions", json=body)
                                         for _ in range(5)), *(via_second_router() for _ in range(5)))
        assert (await first).status_code == 200
    assert fake_upstream.calls == calls + 1
    assert all(r.status_code == 200 for r in results[:5])
    assert list(results[5:]) == [common_pb2.SERVED_MODE_EXACT_CACHE] * 5
