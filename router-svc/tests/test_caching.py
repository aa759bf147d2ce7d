import pytest

from nextmodel.billing.v1 import billing_pb2
from nextmodel.router.v1 import router_pb2
from nextmodel_router import caching


def principal(**fields) -> billing_pb2.Principal:
    return billing_pb2.Principal(cache_enabled=True, **fields)


@pytest.mark.parametrize("body, expected", [
    ({"temperature": 0}, caching.ON),
    ({"temperature": 0.0}, caching.ON),
    ({}, caching.NOT_CACHEABLE),                  # OpenAI samples at temperature 1 by default
    ({"temperature": 0.7}, caching.NOT_CACHEABLE),
    ({"temperature": 0, "n": 2}, caching.NOT_CACHEABLE),
])
def test_sampled_requests_are_not_cached_unless_the_project_says_so(body, expected) -> None:
    assert caching.decide(principal(), router_pb2.ChatRequest(), body) == expected
    assert caching.decide(principal(cache_sampled=True), router_pb2.ChatRequest(), body) == caching.ON


def test_controls() -> None:
    body = {"temperature": 0}
    assert caching.decide(billing_pb2.Principal(cache_enabled=False), router_pb2.ChatRequest(), body) == caching.OFF
    off = router_pb2.ChatRequest(cache_mode=router_pb2.CACHE_MODE_OFF)
    assert caching.decide(principal(), off, body) == caching.OFF
    refresh = router_pb2.ChatRequest(cache_mode=router_pb2.CACHE_MODE_REFRESH)
    assert caching.decide(principal(), refresh, body) == caching.REFRESH


def test_a_completion_replays_as_a_stream_and_back() -> None:
    completion = {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 5, "model": "m", "system_fingerprint": "fp",
        "choices": [{"index": 0, "logprobs": None, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": None, "refusal": None, "reasoning_content": "let me think",
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}},
                           {"id": "call_2", "type": "function", "function": {"name": "g", "arguments": "{}"}}]}}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 9, "total_tokens": 12},
    }
    chunks = caching.completion_to_chunks(completion, include_usage=True)
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == completion["usage"]
    assert all(c["object"] == "chat.completion.chunk" and c["id"] == "chatcmpl-1" for c in chunks)
    builder = caching.CompletionBuilder()
    for chunk in chunks:
        builder.add(chunk)
    assert builder.completion(completion["usage"]) == completion
    assert all("usage" not in c for c in caching.completion_to_chunks(completion, include_usage=False))
