"""The OpenAI surface through every provider family, with the official openai SDK.

Every response and chunk is validated with the SDK's own pydantic types.
"""

from __future__ import annotations

import json
import time

import grpc
import httpx
import openai
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from nextmodel.billing.v1 import billing_pb2, billing_pb2_grpc
from nextmodel.common.v1 import common_pb2

pytestmark = pytest.mark.e2e

# One model per provider family in the seed, with the fake upstream's path for it.
MODELS = {
    "gpt-4o-mini": "openai",
    "claude-sonnet-4-5": "anthropic",
    "gemini-2.5-flash": "google",
    "deepseek-chat": "deepseek",
    "qwen-plus": "alibaba",
    "doubao-seed-2-0-mini": "bytedance-volcengine",
    "kimi-k2.6": "moonshot",
    "glm-4.6": "zhipu-zai",
    "MiniMax-M2.7": "minimax",
    "mistral-medium-3-5": "mistral",
    "grok-4.3": "xai",
}
WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
CITY_SCHEMA = {"type": "json_schema", "json_schema": {"name": "city", "strict": True, "schema": {
    "type": "object", "properties": {"name": {"type": "string"}, "population": {"type": "integer"}},
    "required": ["name", "population"], "additionalProperties": False}}}


@pytest.fixture
def client(stack) -> openai.OpenAI:
    return openai.OpenAI(base_url=stack.base_url, api_key=stack.dev_key, max_retries=0)


def receipt(stack, receipt_id: str) -> billing_pb2.Receipt:
    with grpc.insecure_channel(stack.addr("billing")) as channel:
        return billing_pb2_grpc.BillingServiceStub(channel).GetReceipt(
            billing_pb2.GetReceiptRequest(receipt_id=receipt_id), timeout=5)


def wait_for_receipt(stack, request_id: str, timeout: float = 5.0) -> billing_pb2.Receipt:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with grpc.insecure_channel(stack.addr("billing")) as channel:
            found = billing_pb2_grpc.BillingServiceStub(channel).ListReceipts(
                billing_pb2.ListReceiptsRequest(project_id="proj_default", limit=1000), timeout=5)
        for item in found.receipts:
            if item.request_id == request_id:
                return item
        time.sleep(0.1)
    raise AssertionError(f"no receipt for {request_id}")


def collect(stream) -> list[ChatCompletionChunk]:
    return [ChatCompletionChunk.model_validate(chunk.model_dump()) for chunk in stream]


def text_of(chunks: list[ChatCompletionChunk]) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def tool_calls_of(chunks: list[ChatCompletionChunk]) -> list[dict]:
    """Join tool-call deltas by index, as the SDK's accumulate_delta does."""
    calls: dict[int, dict] = {}
    for chunk in chunks:
        for choice in chunk.choices:
            for delta in choice.delta.tool_calls or ():
                call = calls.setdefault(delta.index, {"id": None, "name": "", "arguments": ""})
                call["id"] = delta.id or call["id"]
                if delta.function:
                    call["name"] += delta.function.name or ""
                    call["arguments"] += delta.function.arguments or ""
    return [calls[i] for i in sorted(calls)]


@pytest.mark.parametrize("model", MODELS)
def test_non_streaming_text(client, fake_upstream, model) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "system", "content": "Be brief."},
                               {"role": "user", "content": "صباح الخير"}], max_completion_tokens=50)
    completion = ChatCompletion.model_validate_json(raw.content)
    assert completion.choices[0].message.content == "echo: صباح الخير"
    assert completion.choices[0].finish_reason == "stop"
    assert fake_upstream.last.provider == MODELS[model]
    assert raw.headers["x-nextmodel-provider"] == MODELS[model]
    assert raw.headers["x-nextmodel-usage-source"] == "upstream"
    assert completion.usage.prompt_tokens > 0 and completion.usage.completion_tokens == 3


@pytest.mark.parametrize("model", MODELS)
def test_streaming_text_with_usage_chunk(client, stack, model) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": "one two three four"}], stream=True,
        stream_options={"include_usage": True})
    assert raw.headers["content-type"].startswith("text/event-stream")
    assert raw.headers["x-nextmodel-served-mode"] == "fresh"
    assert raw.headers["x-nextmodel-provider"] == MODELS[model]
    chunks = collect(raw.parse())
    assert text_of(chunks) == "echo: one two three four"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    usage_chunks = [c for c in chunks if c.usage is not None]
    assert len(usage_chunks) == 1 and usage_chunks[0].choices == []
    assert usage_chunks[0].usage.completion_tokens == 5
    last = chunks[-1].model_extra["nextmodel"]
    assert last["served_mode"] == "fresh" and last["usage_source"] == "upstream"
    settled = receipt(stack, last["receipt_id"])
    assert settled.completion_tokens == 5 and settled.usage_source == common_pb2.USAGE_SOURCE_UPSTREAM
    assert settled.status == "ok"
    assert settled.charged_cost_nano_usd > 0


def test_streaming_without_usage_request_hides_the_usage_chunk_but_bills_it(client, stack, fake_upstream) -> None:
    chunks = collect(client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hello there"}], stream=True))
    assert all(c.usage is None for c in chunks)
    assert fake_upstream.last.body["stream_options"] == {"include_usage": True}, "the router asks for usage"
    nextmodel = chunks[-1].model_extra["nextmodel"]
    assert nextmodel["usage_source"] == "upstream"
    assert receipt(stack, nextmodel["receipt_id"]).completion_tokens == 3


@pytest.mark.parametrize("model", MODELS)
def test_tool_call_round_trip(client, fake_upstream, model) -> None:
    messages = [{"role": "user", "content": "What is the weather in Riyadh?"}]
    first = client.chat.completions.with_raw_response.create(
        model=model, messages=messages, tools=[WEATHER_TOOL], tool_choice="auto", parallel_tool_calls=False)
    completion = ChatCompletion.model_validate_json(first.content)
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Riyadh"}
    if model.startswith("claude"):
        sent = fake_upstream.last.body
        assert sent["tools"][0]["input_schema"] == WEATHER_TOOL["function"]["parameters"]
        assert sent["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}
    else:
        assert fake_upstream.last.body["tools"] == [WEATHER_TOOL]

    messages += [choice.message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": call.id, "content": "32°C and sunny"}]
    final = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER_TOOL])
    assert final.choices[0].message.content == "The tool said: 32°C and sunny"
    assert final.choices[0].finish_reason == "stop"
    if model.startswith("claude"):
        turns = fake_upstream.last.body["messages"]
        assert [t["role"] for t in turns] == ["user", "assistant", "user"]
        assert turns[1]["content"][0]["type"] == "tool_use"
        assert turns[2]["content"][0] == {"type": "tool_result", "tool_use_id": call.id, "content": "32°C and sunny"}


@pytest.mark.parametrize("model", ["gpt-4o-mini", "claude-sonnet-4-5", "deepseek-chat"])
def test_streaming_tool_call_round_trip(client, model) -> None:
    messages = [{"role": "user", "content": "Weather in Jeddah?"}]
    chunks = collect(client.chat.completions.create(model=model, messages=messages, tools=[WEATHER_TOOL],
                                                    stream=True))
    calls = tool_calls_of(chunks)
    assert len(calls) == 1 and calls[0]["name"] == "get_weather"
    assert json.loads(calls[0]["arguments"]) == {"city": "Riyadh"}
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["tool_calls"]
    messages += [{"role": "assistant", "content": None, "tool_calls": [
        {"id": calls[0]["id"], "type": "function", "function": {"name": calls[0]["name"],
                                                               "arguments": calls[0]["arguments"]}}]},
                 {"role": "tool", "tool_call_id": calls[0]["id"], "content": "29°C"}]
    final = collect(client.chat.completions.create(model=model, messages=messages, tools=[WEATHER_TOOL],
                                                   stream=True))
    assert text_of(final) == "The tool said: 29°C"


@pytest.mark.parametrize("model", ["gpt-4o-mini", "claude-sonnet-4-5", "qwen-plus", "gemini-2.5-flash"])
def test_json_schema_output(client, fake_upstream, model) -> None:
    completion = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "The capital of Saudi Arabia, as JSON."}],
        response_format=CITY_SCHEMA)
    city = json.loads(completion.choices[0].message.content)
    assert set(city) == {"name", "population"}
    sent = fake_upstream.last.body
    if model.startswith("claude"):
        assert sent["output_config"]["format"] == {"type": "json_schema",
                                                   "schema": CITY_SCHEMA["json_schema"]["schema"]}
    else:
        assert sent["response_format"] == CITY_SCHEMA


def test_every_request_field_passes_through(client, fake_upstream) -> None:
    client.chat.completions.create(
        model="gpt-4.1", messages=[{"role": "user", "content": "x"}], temperature=0.3, top_p=0.9, stop=["\n\n"],
        logprobs=True, top_logprobs=2, seed=7, reasoning_effort="low", response_format={"type": "json_object"},
        parallel_tool_calls=True, extra_body={"a_field_from_2027": {"keep": ["me"]}, "service_tier": "flex"})
    sent = fake_upstream.last.body
    for name, value in {"temperature": 0.3, "top_p": 0.9, "stop": ["\n\n"], "logprobs": True, "top_logprobs": 2,
                        "seed": 7, "reasoning_effort": "low", "response_format": {"type": "json_object"},
                        "a_field_from_2027": {"keep": ["me"]}, "service_tier": "flex"}.items():
        assert sent[name] == value, name


def test_cached_token_names_are_translated(client, stack) -> None:
    for model in ("deepseek-chat", "kimi-k2.6", "claude-sonnet-4-5"):
        raw = client.chat.completions.with_raw_response.create(model=model,
                                                               messages=[{"role": "user", "content": "hi"}])
        completion = raw.parse()
        assert completion.usage.prompt_tokens_details.cached_tokens == 2, model
        assert receipt(stack, raw.headers["x-nextmodel-receipt-id"]).cached_prompt_tokens == 2


def test_fallback_to_the_next_candidate_before_the_first_byte(client, stack, fake_upstream) -> None:
    fake_upstream.fail_next(503)
    raw = client.chat.completions.with_raw_response.create(model="nextmodel/reliable-chat",
                                                           messages=[{"role": "user", "content": "hi"}])
    assert raw.headers["x-nextmodel-provider"] == "deepseek"
    attempts = raw.parse().model_extra["nextmodel"]["attempts"]
    assert [(a["provider"], a["outcome"]) for a in attempts] == [("openai", "http_503"), ("deepseek", "ok")]
    assert receipt(stack, raw.headers["x-nextmodel-receipt-id"]).route_reason.startswith("policy reliable-chat:")

    fake_upstream.fail_next(429)
    fake_upstream.fail_next(529)
    chunks = collect(client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True,
        extra_headers={"x-nextmodel-policy": "reliable-chat"}))
    nextmodel = chunks[-1].model_extra["nextmodel"]
    assert nextmodel["provider"] == "anthropic"
    assert [a["outcome"] for a in nextmodel["attempts"]] == ["http_429", "http_529", "ok"]
    assert text_of(chunks) == "echo: hi"


def test_parameters_a_provider_cannot_honour(client) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model="claude-sonnet-4-5", messages=[{"role": "user", "content": "x"}], n=2)
    assert refused.value.param == "n" and "anthropic" in refused.value.message
    # A route with a candidate that can honour it goes there instead.
    raw = client.chat.completions.with_raw_response.create(
        model="nextmodel/claude-then-gpt", messages=[{"role": "user", "content": "x"}], n=2)
    assert raw.headers["x-nextmodel-provider"] == "openai"


def test_an_error_after_the_first_byte_is_an_error_event(client, stack, fake_upstream) -> None:
    fake_upstream.break_next_stream(after_events=3)
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", stream=True, messages=[{"role": "user", "content": "a b c d e f g"}])
    received = []
    with pytest.raises(openai.APIError) as failed:
        for chunk in raw.parse():
            received.append(chunk)
    assert received, "the stream had started"
    assert "openai" in str(failed.value)
    settled = wait_for_receipt(stack, raw.headers["x-request-id"])
    assert settled.status == "upstream_error" and settled.usage_source == common_pb2.USAGE_SOURCE_ESTIMATED
    assert settled.completion_tokens > 0


def test_client_disconnect_cancels_the_upstream_and_still_bills(stack, fake_upstream) -> None:
    abandoned = fake_upstream.abandoned_streams
    fake_upstream.slow_next_stream(0.1)
    words = " ".join(f"w{i}" for i in range(60))
    with httpx.stream("POST", f"{stack.base_url}/chat/completions", timeout=10,
                      headers={"authorization": f"Bearer {stack.dev_key}"},
                      json={"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": words}]}
                      ) as response:
        request_id = response.headers["x-request-id"]
        lines = response.iter_lines()
        got = [line for line, _ in zip(lines, range(6), strict=False) if line.startswith("data:")]
        assert got
    # The client hung up after a few chunks; the provider sees its connection dropped.
    deadline = time.monotonic() + 8
    while fake_upstream.abandoned_streams == abandoned and time.monotonic() < deadline:
        time.sleep(0.1)
    assert fake_upstream.abandoned_streams == abandoned + 1
    settled = wait_for_receipt(stack, request_id)
    assert settled.status == "client_cancelled"
    assert settled.usage_source == common_pb2.USAGE_SOURCE_ESTIMATED and 0 < settled.completion_tokens < 60
