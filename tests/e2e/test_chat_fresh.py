"""One Fresh request end to end: the official openai SDK → edge → router → fake upstream."""

from __future__ import annotations

import time
from decimal import Decimal

import grpc
import httpx
import openai
import pytest

from nextmodel.billing.v1 import billing_pb2, billing_pb2_grpc

pytestmark = pytest.mark.e2e

SEED_MODELS = {"gpt-4.1", "gpt-4o-mini", "deepseek-chat", "qwen-plus", "doubao-seed-2-0-mini", "kimi-k2.6",
               "claude-sonnet-4-5", "gemini-2.5-flash", "glm-4.6", "MiniMax-M2.7", "mistral-medium-3-5", "grok-4.3"}


@pytest.fixture
def client(stack) -> openai.OpenAI:
    return openai.OpenAI(base_url=stack.base_url, api_key=stack.dev_key, max_retries=0)


def receipts_of_default_project(stack) -> list[billing_pb2.Receipt]:
    with grpc.insecure_channel(stack.addr("billing")) as channel:
        answer = billing_pb2_grpc.BillingServiceStub(channel).ListReceipts(
            billing_pb2.ListReceiptsRequest(project_id="proj_default", limit=1000), timeout=5
        )
    return list(answer.receipts)


def test_fresh_chat_completion_comes_from_the_upstream(client, stack, fake_upstream) -> None:
    calls = fake_upstream.calls
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "مرحبا، how much is 2+2?"}],
        temperature=0,
        extra_body={"some_future_field": {"nested": [1, 2]}},
    )
    completion = raw.parse()

    assert fake_upstream.calls == calls + 1
    sent = fake_upstream.last.body
    assert sent["model"] == "gpt-4o-mini"
    assert sent["some_future_field"] == {"nested": [1, 2]}, "unknown fields must reach the upstream"
    assert fake_upstream.last.headers["authorization"] == "Bearer sk-test-openai-upstream-secret"

    expected = {"usage": fake_upstream.expected_usage(sent)}
    assert completion.choices[0].message.content == "echo: مرحبا، how much is 2+2?"
    assert completion.usage.prompt_tokens == expected["usage"]["prompt_tokens"]
    assert completion.usage.completion_tokens == expected["usage"]["completion_tokens"]

    headers = raw.headers
    assert headers["x-nextmodel-served-mode"] == "fresh"
    assert headers["x-nextmodel-provider"] == "openai"
    assert headers["x-nextmodel-usage-source"] == "upstream"
    assert headers["x-request-id"].startswith("req_")
    assert headers["x-nextmodel-receipt-id"].startswith("rcpt_")

    # The receipt's numbers are the upstream's usage times the catalog price.
    with grpc.insecure_channel(stack.addr("billing")) as channel:  # GetReceipt waits for a receipt just minted
        receipt = billing_pb2_grpc.BillingServiceStub(channel).GetReceipt(
            billing_pb2.GetReceiptRequest(receipt_id=headers["x-nextmodel-receipt-id"]), timeout=10)
    assert receipt.request_id == headers["x-request-id"]
    assert receipt.prompt_tokens == completion.usage.prompt_tokens
    assert receipt.completion_tokens == completion.usage.completion_tokens
    gpt_4o_mini = {"input": Decimal("0.15"), "output": Decimal("0.6")}
    expected_nano = (completion.usage.prompt_tokens * gpt_4o_mini["input"]
                     + completion.usage.completion_tokens * gpt_4o_mini["output"]) * 1000
    assert receipt.charged_cost_nano_usd == int(expected_nano)
    assert Decimal(headers["x-nextmodel-cost-usd"]) * 10**9 == receipt.charged_cost_nano_usd
    assert completion.model_extra["nextmodel"]["receipt_id"] == receipt.id


def test_receipt_is_readable_by_its_project(client, stack) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="deepseek-chat", messages=[{"role": "user", "content": "hi"}]
    )
    receipt_id = raw.headers["x-nextmodel-receipt-id"]
    answer = httpx.get(f"{stack.base_url}/receipts/{receipt_id}?currency=SAR",
                       headers={"authorization": f"Bearer {stack.dev_key}"})
    assert answer.status_code == 200
    receipt = answer.json()
    assert receipt["id"] == receipt_id
    assert receipt["provider"] == "deepseek"
    assert receipt["served_mode"] == "fresh"
    assert Decimal(receipt["charged_cost_sar"]) == Decimal(receipt["charged_cost_usd"]) * Decimal("3.75")
    assert len(receipt["signature"]) == 64


def test_models_lists_the_seed_with_provider_as_owner(client) -> None:
    models = {m.id: m for m in client.models.list().data}
    assert set(models) >= SEED_MODELS
    assert models["gpt-4.1"].owned_by == "openai"
    assert models["kimi-k2.6"].owned_by == "moonshot"
    assert models["deepseek-chat"].model_extra["pricing"]["input"] == "0.3"
    assert client.models.retrieve("qwen-plus").owned_by == "alibaba"


class TestBadInput:
    """Each refusal is OpenAI-shaped, raises the SDK's matching exception, and charges nothing."""

    def test_malformed_json_is_400(self, stack, client) -> None:
        with pytest.raises(openai.BadRequestError) as refused:
            client.post("/chat/completions", cast_to=httpx.Response, content=b'{"model": "gpt-4.1", "messages": [',
                        options={"headers": {"content-type": "application/json"}})
        assert refused.value.code == "invalid_json"

    def test_missing_messages_is_400(self, client) -> None:
        with pytest.raises(openai.BadRequestError) as refused:
            client.post("/chat/completions", cast_to=httpx.Response, body={"model": "gpt-4.1"})
        assert refused.value.param == "messages"

    def test_missing_key_is_401(self, stack) -> None:
        answer = httpx.post(f"{stack.base_url}/chat/completions",
                            json={"model": "gpt-4.1", "messages": [{"role": "user", "content": "x"}]})
        assert answer.status_code == 401
        assert set(answer.json()["error"]) == {"message", "type", "param", "code"}

    def test_unknown_key_is_401(self, stack) -> None:
        stranger = openai.OpenAI(base_url=stack.base_url, api_key="nm-not-a-real-key-000000000000", max_retries=0)
        with pytest.raises(openai.AuthenticationError):
            stranger.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": "x"}])

    def test_unknown_model_is_404_with_suggestion(self, client) -> None:
        with pytest.raises(openai.NotFoundError) as refused:
            client.chat.completions.create(model="gpt-4.11", messages=[{"role": "user", "content": "x"}])
        assert "gpt-4.1" in refused.value.message

    def test_upstream_failure_is_502_naming_the_provider(self, client, fake_upstream) -> None:
        fake_upstream.fail_next(500)
        with pytest.raises(openai.InternalServerError) as refused:
            client.chat.completions.create(model="kimi-k2.6", messages=[{"role": "user", "content": "x"}])
        assert refused.value.status_code == 502
        assert "moonshot" in refused.value.message
        assert "Traceback" not in refused.value.message

    def test_upstream_timeout_is_504(self, client, fake_upstream) -> None:
        fake_upstream.delay_next(3.0)  # the stack's first-byte timeout is 2 s
        with pytest.raises(openai.InternalServerError) as refused:
            client.chat.completions.create(model="qwen-plus", messages=[{"role": "user", "content": "x"}])
        assert refused.value.status_code == 504
        assert "alibaba" in refused.value.message

    @pytest.fixture(autouse=True)
    def nothing_is_charged(self, stack):
        time.sleep(0.3)  # earlier tests' settlements land first
        before = len(receipts_of_default_project(stack))
        yield
        time.sleep(0.3)
        assert len(receipts_of_default_project(stack)) == before, "a refused request left a usage row"


def test_health_and_readiness(stack) -> None:
    assert httpx.get(f"{stack.edge_url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{stack.edge_url}/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready",
                            "checks": dict.fromkeys(("router", "cache", "billing", "catalog"), "ok")}
