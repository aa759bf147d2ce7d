import pytest

from nextmodel_router.adapters import AnthropicAdapter, Unsupported
from nextmodel_router.adapters.anthropic import StreamTranslator, from_anthropic, to_anthropic
from nextmodel_router.adapters.base import http_error
from nextmodel_router.catalog_copy import ProviderInfo
from nextmodel_router.chat import upstream_gateway_error

ANTHROPIC = ProviderInfo("anthropic", "anthropic", "ANTHROPIC", "https://api.anthropic.com", {})


def test_system_images_tools_and_results_translate_to_messages() -> None:
    body = {
        "model": "claude", "max_tokens": 100, "stop": "END", "temperature": 0.2,
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "developer", "content": [{"type": "text", "text": "Answer in Arabic."}]},
            {"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                         {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                                         {"type": "image_url", "image_url": {"url": "https://x.test/a.jpg"}}]},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "look", "arguments": '{"q": 1}'}},
                {"id": "call_2", "type": "function", "function": {"name": "look", "arguments": '{"q": 2}'}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "a cat"},
            {"role": "tool", "tool_call_id": "call_2", "content": "a hat"},
        ],
        "tools": [{"type": "function", "function": {"name": "look", "parameters": {"type": "object"}}}],
        "tool_choice": {"type": "function", "function": {"name": "look"}},
        "parallel_tool_calls": False,
    }
    request = to_anthropic(body, "claude-sonnet-4-5")
    assert request["system"] == [{"type": "text", "text": "You are terse."},
                                 {"type": "text", "text": "Answer in Arabic."}]
    assert request["max_tokens"] == 100 and request["stop_sequences"] == ["END"] and request["temperature"] == 0.2
    user, assistant, results = request["messages"]
    assert user["content"][1] == {"type": "image",
                                  "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}}
    assert user["content"][2] == {"type": "image", "source": {"type": "url", "url": "https://x.test/a.jpg"}}
    assert [b["input"] for b in assistant["content"]] == [{"q": 1}, {"q": 2}]
    # Consecutive tool results are merged into one user turn.
    assert results["role"] == "user" and [b["tool_use_id"] for b in results["content"]] == ["call_1", "call_2"]
    assert request["tools"] == [{"name": "look", "input_schema": {"type": "object"}}]
    assert request["tool_choice"] == {"type": "tool", "name": "look", "disable_parallel_tool_use": True}


def test_max_tokens_defaults_and_json_modes() -> None:
    base = {"messages": [{"role": "user", "content": "hi"}]}
    assert to_anthropic(base, "m", 8192)["max_tokens"] == 8192
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    json_schema = {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}
    request = to_anthropic({**base, "response_format": json_schema}, "m")
    assert request["output_config"]["format"] == {"type": "json_schema", "schema": schema}
    request = to_anthropic({**base, "response_format": {"type": "json_object"}}, "m")
    assert "JSON" in request["system"][-1]["text"]


@pytest.mark.parametrize("param, value", [("n", 2), ("logprobs", True), ("logit_bias", {"1": 5}),
                                          ("presence_penalty", 0.5)])
def test_parameters_anthropic_cannot_honour_are_named(param, value) -> None:
    with pytest.raises(Unsupported) as refused:
        AnthropicAdapter(None, 1).check(ANTHROPIC, {"messages": [{"role": "user", "content": "x"}], param: value})
    assert refused.value.param == param and refused.value.provider == "anthropic"


def test_response_translation_with_thinking_tools_and_cache_usage() -> None:
    completion = from_anthropic({
        "id": "msg_1", "model": "claude-sonnet-4-5", "stop_reason": "tool_use",
        "content": [{"type": "thinking", "thinking": "Let me look."}, {"type": "text", "text": "Looking."},
                    {"type": "tool_use", "id": "toolu_1", "name": "look", "input": {"q": "قطة"}}],
        "usage": {"input_tokens": 10, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 5,
                  "output_tokens": 7},
    })
    choice = completion["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["reasoning_content"] == "Let me look."
    assert choice["message"]["tool_calls"][0]["function"] == {"name": "look", "arguments": '{"q":"قطة"}'}
    assert completion["usage"]["prompt_tokens"] == 115
    assert completion["usage"]["prompt_tokens_details"] == {"cached_tokens": 100, "cache_write_tokens": 5}


@pytest.mark.parametrize("reason, finish", [("end_turn", "stop"), ("max_tokens", "length"),
                                            ("stop_sequence", "stop"), ("refusal", "content_filter"),
                                            ("model_context_window_exceeded", "length")])
def test_stop_reasons(reason, finish) -> None:
    assert from_anthropic({"content": [], "stop_reason": reason})["choices"][0]["finish_reason"] == finish


def test_stream_events_become_openai_chunks() -> None:
    translator = StreamTranslator(include_usage=True)
    events = [
        ("message_start", {"message": {"id": "m1", "model": "c", "usage": {"input_tokens": 3, "output_tokens": 1}}}),
        ("content_block_start", {"index": 0, "content_block": {"type": "thinking", "thinking": ""}}),
        ("content_block_delta", {"index": 0, "delta": {"type": "thinking_delta", "thinking": "hmm"}}),
        ("content_block_start", {"index": 1, "content_block": {"type": "tool_use", "id": "t1", "name": "f"}}),
        ("content_block_delta", {"index": 1, "delta": {"type": "input_json_delta", "partial_json": '{"a"'}}),
        ("content_block_delta", {"index": 1, "delta": {"type": "input_json_delta", "partial_json": ':1}'}}),
        ("message_delta", {"delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 9}}),
    ]
    chunks = [chunk for kind, event in events for chunk in translator.feed(kind, event)]
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert deltas[0] == {"role": "assistant", "content": ""}
    assert deltas[1] == {"reasoning_content": "hmm"}
    assert deltas[2]["tool_calls"][0] == {"index": 0, "id": "t1", "type": "function",
                                          "function": {"name": "f", "arguments": ""}}
    assert "".join(d["tool_calls"][0]["function"]["arguments"] for d in deltas[3:5]) == '{"a":1}'
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 9
    assert chunks[-1]["usage"]["prompt_tokens"] == 3


def test_overloaded_529_is_retryable_and_becomes_503() -> None:
    failure = http_error("anthropic", 529, b'{"type":"error","error":{"type":"overloaded_error","message":"busy"}}',
                         {})
    assert failure.retryable
    assert upstream_gateway_error(failure).http_status == 503
