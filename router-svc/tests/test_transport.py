"""The transport the adapters share: the server-sent-events reader and the proxy settings."""

import asyncio

import pytest

from nextmodel_router.adapters.base import sse_events

STREAM = (b"event: message_start\r\ndata: {\"a\":1}\r\n\r\n"
          b": a comment\n"
          b"data: first line\ndata: second line\n\n"
          b"data: cr only\r\r"
          b"data: [DONE]\n\n")
EVENTS = [("message_start", '{"a":1}'), ("message", "first line\nsecond line"), ("message", "cr only"),
          ("message", "[DONE]")]


def read(chunks: list[bytes]) -> list[tuple[str, str]]:
    async def source():
        for chunk in chunks:
            yield chunk

    async def collect():
        return [event async for event in sse_events(source())]

    return asyncio.run(collect())


@pytest.mark.parametrize("size", [1, 2, 3, 7, 16, len(STREAM)])
def test_events_are_the_same_however_the_bytes_are_split(size: int) -> None:
    assert read([STREAM[i:i + size] for i in range(0, len(STREAM), size)]) == EVENTS


def test_a_crlf_split_between_two_chunks_is_one_line_ending() -> None:
    # Were the CR taken as a line end on its own, the LF would be an empty line and end the event early.
    assert read([b"data: a\r", b"\ndata: b\r\n\r\n"]) == [("message", "a\nb")]


def test_a_last_event_without_its_blank_line_is_still_delivered() -> None:
    assert read([b"data: tail"]) == [("message", "tail")]


def test_provider_calls_honour_the_proxy_environment(monkeypatch) -> None:
    from nextmodel_router.adapters.base import env_proxy

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1,.svc.cluster.local")
    env_proxy.cache_clear()
    try:
        assert env_proxy("https://api.openai.com/v1/chat/completions") == "http://proxy.internal:3128"
        assert env_proxy("http://127.0.0.1:9999/v1/chat/completions") is None
        assert env_proxy("https://llm.team.svc.cluster.local/v1/chat/completions") is None
    finally:
        env_proxy.cache_clear()


def test_bytes_that_are_not_utf8_become_replacement_characters() -> None:
    assert read([b"data: caf\xe9\n\n"]) == [("message", "caf\ufffd")]


def test_a_line_past_the_limit_is_refused_not_buffered(monkeypatch) -> None:
    from nextmodel_router.adapters import base

    monkeypatch.setattr(base, "MAX_SSE_LINE_BYTES", 64)
    with pytest.raises(base.LineTooLong):
        read([b"data: " + b"x" * 16] * 8)
    assert read([b"data: " + b"x" * 40, b"\n\n"]) == [("message", "x" * 40)], "under the limit it passes"


def test_all_proxy_applies_when_no_scheme_proxy_is_set(monkeypatch) -> None:
    from nextmodel_router.adapters.base import env_proxy

    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ALL_PROXY", "http://egress.internal:8080")
    env_proxy.cache_clear()
    try:
        assert env_proxy("https://api.deepseek.com/chat/completions") == "http://egress.internal:8080"
    finally:
        env_proxy.cache_clear()
