"""POST /v1/completions (OpenAI's legacy text completions) with the official SDK: served by chat
models through the chat path, so billed, receipted, cached and streamed exactly as chat is."""

from __future__ import annotations

import uuid

import httpx
import openai
import pytest

from tests.support.accounts import new_account, settled_usage

pytestmark = pytest.mark.e2e


@pytest.fixture
def account(stack):
    return new_account(stack)


@pytest.fixture
def client(stack, account) -> openai.OpenAI:
    return openai.OpenAI(base_url=stack.base_url, api_key=account.key, max_retries=0)


@pytest.mark.parametrize("model", ["gpt-4o-mini", "claude-haiku-4-5", "deepseek-chat"])
def test_a_completion_is_served_billed_and_receipted(client, stack, account, fake_upstream, model) -> None:
    raw = client.completions.with_raw_response.create(model=model, prompt="one two three", max_tokens=20)
    completion = raw.parse()
    assert completion.object == "text_completion"
    assert completion.choices[0].text == "echo: one two three" and completion.choices[0].finish_reason == "stop"
    assert completion.usage.completion_tokens > 0
    assert raw.headers["x-nextmodel-served-mode"] == "fresh"
    sent = fake_upstream.last.body
    if fake_upstream.last.provider != "anthropic":  # Anthropic's Messages shape has its own layout
        assert sent["messages"] == [{"role": "user", "content": "one two three"}]
    assert "prompt" not in sent
    receipt = httpx.get(f"{stack.base_url}/receipts/{raw.headers['x-nextmodel-receipt-id']}",
                        headers={"authorization": f"Bearer {account.key}"}, timeout=30).json()
    assert receipt["served_model"] == model and receipt["charged_cost_nano_usd"] > 0
    assert settled_usage(stack, account.key, 1)["total"]["requests"] == 1


def test_the_endpoints_default_max_tokens_is_openais(client, fake_upstream) -> None:
    client.completions.create(model="gpt-4o-mini", prompt="defaults")
    sent = fake_upstream.last.body
    assert sent.get("max_tokens") == 16 or sent.get("max_completion_tokens") == 16


def test_a_streamed_completion_is_text_chunks_ending_with_usage_and_the_receipt(client) -> None:
    stream = client.completions.create(model="gpt-4o-mini", prompt="alpha beta", stream=True,
                                       stream_options={"include_usage": True})
    chunks = list(stream)
    assert all(chunk.object == "text_completion" for chunk in chunks)
    assert "".join(c.choices[0].text for c in chunks if c.choices) == "echo: alpha beta"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    assert chunks[-1].model_extra["nextmodel"]["receipt_id"].startswith("rcpt_")


def test_a_repeated_completion_is_an_exact_cache_hit_in_both_shapes(client) -> None:
    prompt = f"cache me {uuid.uuid4().hex}"
    first = client.completions.with_raw_response.create(model="gpt-4o-mini", prompt=prompt, temperature=0)
    again = client.completions.with_raw_response.create(model="gpt-4o-mini", prompt=prompt, temperature=0)
    assert first.headers["x-nextmodel-served-mode"] == "fresh"
    assert again.headers["x-nextmodel-served-mode"] == "exact_cache"
    assert again.parse().choices[0].text == first.parse().choices[0].text
    replayed = list(client.completions.create(model="gpt-4o-mini", prompt=prompt, temperature=0, stream=True))
    assert "".join(c.choices[0].text for c in replayed if c.choices) == first.parse().choices[0].text
    assert replayed[-1].model_extra["nextmodel"]["served_mode"] == "exact_cache"


@pytest.mark.parametrize("fields, param", [
    ({"echo": True}, "echo"), ({"logprobs": 2}, "logprobs"), ({"suffix": "end"}, "suffix"),
    ({"best_of": 3}, "best_of"), ({"prompt": ["one", "two"]}, "prompt"), ({"prompt": [1, 2, 3]}, "prompt"),
    ({"temperature": 9}, "temperature"),
], ids=["echo", "logprobs", "suffix", "best-of", "two-prompts", "token-ids", "temperature"])
def test_what_chat_cannot_carry_is_a_400_naming_the_field(stack, account, fake_upstream, fields, param) -> None:
    calls = fake_upstream.calls
    answer = httpx.post(f"{stack.base_url}/completions", headers={"authorization": f"Bearer {account.key}"},
                        json={"model": "gpt-4o-mini", "prompt": "hi", **fields}, timeout=30)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["param"] == param
    assert fake_upstream.calls == calls
