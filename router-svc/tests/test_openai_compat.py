import orjson

from nextmodel_router import usage as usage_mod
from nextmodel_router.adapters import OpenAICompatAdapter, ProviderCall
from nextmodel_router.adapters.openai_compat import normalise_usage
from nextmodel_router.catalog_copy import ProviderInfo
from nextmodel_router.credentials import Credential
from nextmodel_router.streaming import StreamAccumulator


def call(quirks: dict) -> ProviderCall:
    provider = ProviderInfo("p", "openai", "P", "https://p.test/v1", quirks)
    return ProviderCall(provider, Credential("sk-x", "https://p.test/v1", "platform"), "upstream-id")


def test_request_uses_the_upstream_id_and_provider_quirks() -> None:
    adapter = OpenAICompatAdapter(None, 1)
    body = {"model": "friendly", "messages": [], "max_completion_tokens": 9, "seed": 1, "stream": False}
    url, payload, headers = adapter._request(call({"max_tokens_field": "max_tokens", "drop_params": ["seed"]}), body,
                                             stream=True)
    sent = orjson.loads(payload)
    assert url == "https://p.test/v1/chat/completions" and headers["authorization"] == "Bearer sk-x"
    assert sent["model"] == "upstream-id" and sent["max_tokens"] == 9 and "max_completion_tokens" not in sent
    assert "seed" not in sent and sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    _, payload, _ = adapter._request(call({"stream_usage": "always"}), body, stream=True)
    assert "stream_options" not in orjson.loads(payload)


def test_cached_token_field_names_are_normalised() -> None:
    answer = {"usage": {"prompt_tokens": 10, "completion_tokens": 1, "prompt_cache_hit_tokens": 6}}
    normalise_usage(answer, {"cached_tokens_field": "prompt_cache_hit_tokens"})
    assert answer["usage"]["prompt_tokens_details"]["cached_tokens"] == 6


def test_accumulator_moves_usage_to_its_own_last_chunk_and_carries_nextmodel() -> None:
    acc = StreamAccumulator(include_usage=True)
    out = [acc.push({"id": "c", "created": 1, "model": "m", "choices": [{"index": 0, "delta": {"content": "hi"}}]}),
           acc.push({"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                     "usage": {"prompt_tokens": 3, "completion_tokens": 1}})]
    assert out[0] is None, "the newest chunk is held back"
    assert out[1]["choices"][0]["delta"] == {"content": "hi"} and out[1]["usage"] is None
    usage = acc.usage({"messages": []})
    ending = acc.finish(usage, {"receipt_id": "r"})
    assert ending[0]["choices"][0]["finish_reason"] == "stop"
    assert ending[1]["choices"] == [] and ending[1]["usage"]["prompt_tokens"] == 3
    assert ending[1]["nextmodel"] == {"receipt_id": "r"}


def test_accumulator_estimates_when_no_usage_arrives() -> None:
    acc = StreamAccumulator(include_usage=False)
    acc.push({"choices": [{"index": 0, "delta": {"content": "abcdefgh"}}]})
    usage = acc.usage({"messages": [{"role": "user", "content": "x"}]})
    assert usage.source == "estimated" and usage.completion_tokens == usage_mod.estimate_tokens("abcdefgh")
    ending = acc.finish(usage, {"n": 1})
    assert len(ending) == 1 and "usage" not in ending[0] and ending[0]["nextmodel"] == {"n": 1}
