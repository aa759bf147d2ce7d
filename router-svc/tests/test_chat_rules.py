import orjson
import pytest

from nextmodel_common.errors import GatewayError
from nextmodel_router import usage
from nextmodel_router.adapters import UpstreamError
from nextmodel_router.chat import parse_body, upstream_gateway_error


@pytest.mark.parametrize("raw, param", [
    (b"{not json", None),
    (b"[]", None),
    (b'{"messages": [{"role": "user", "content": "x"}]}', "model"),
    (b'{"model": "m"}', "messages"),
    (b'{"model": "m", "messages": []}', "messages"),
    (b'{"model": "m", "messages": ["hi"]}', "messages[0]"),
])
def test_bad_bodies_are_400_naming_the_field(raw, param) -> None:
    with pytest.raises(GatewayError) as refused:
        parse_body(raw)
    assert refused.value.http_status == 400
    assert refused.value.param == param


@pytest.mark.parametrize("failure, status", [
    (UpstreamError("deepseek", "timeout", "slow", retryable=True), 504),
    (UpstreamError("deepseek", "connect", "refused", retryable=True), 502),
    (UpstreamError("deepseek", "http", "boom", status=503, retryable=True), 502),
    (UpstreamError("deepseek", "http", "bad", status=400), 400),
    (UpstreamError("deepseek", "http", "slow down", status=429, retryable=True, retry_after=7), 429),
    (UpstreamError("deepseek", "http", "bad key", status=401), 502),
])
def test_upstream_failures_map_to_openai_statuses_naming_the_provider(failure, status) -> None:
    error = upstream_gateway_error(failure)
    assert error.http_status == status
    assert "deepseek" in error.message
    if status == 429:
        assert error.retry_after_seconds == 7


def test_usage_is_read_from_the_upstream_when_present() -> None:
    answer = {"choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": 3,
                                       "prompt_tokens_details": {"cached_tokens": 4}}}
    found = usage.from_response(answer, {"messages": []})
    assert (found.prompt_tokens, found.completion_tokens, found.cached_prompt_tokens, found.source) == \
        (10, 3, 4, "upstream")


def test_usage_is_estimated_and_marked_when_absent() -> None:
    request = {"messages": [{"role": "user", "content": "مرحبا بالعالم"}]}
    answer = {"choices": [{"message": {"content": "hello there"}}]}
    found = usage.from_response(answer, request)
    assert found.source == "estimated"
    assert found.prompt_tokens >= len(orjson.dumps(request["messages"])) // 4
    assert found.completion_tokens == 3
