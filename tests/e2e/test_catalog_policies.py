"""The catalog and routing policies through the real stack."""

from __future__ import annotations

import time
from decimal import Decimal

import httpx
import openai
import pytest

from tests.support.accounts import new_account, settled_usage

pytestmark = pytest.mark.e2e

HELLO = [{"role": "user", "content": "hello"}]


def client_for(stack, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=stack.base_url, api_key=key, max_retries=0)


def test_models_carry_pricing_capabilities_and_live_latency(stack) -> None:
    client = client_for(stack, stack.dev_key)
    for _ in range(3):
        client.chat.completions.create(model="grok-4.3", messages=HELLO)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        grok = client.models.retrieve("grok-4.3")
        if grok.model_extra["latency"]:
            break
        time.sleep(0.5)
    latency = grok.model_extra["latency"]
    assert latency["samples"] >= 3 and latency["total_p50_ms"] >= 0 and latency["error_rate"] == 0
    models = client.models.list().data
    assert len(models) >= 42 and len({m.owned_by for m in models}) >= 10
    claude = next(m for m in models if m.id == "claude-sonnet-4-5")
    assert claude.model_extra["capabilities"]["tools"] and claude.model_extra["context_window"] == 200000
    assert claude.model_extra["pricing"]["source"].startswith("https://")
    assert client.models.retrieve("doubao-seed-2-0-mini").owned_by == "bytedance-volcengine"


def test_quote_matches_hand_computed_costs(stack) -> None:
    account = new_account(stack)
    answer = httpx.post(f"{stack.base_url}/quote", headers={"authorization": f"Bearer {account.key}"}, json={
        "models": ["gpt-4o-mini", "claude-sonnet-4-5", "deepseek-chat"], "prompt_tokens": 1000,
        "completion_tokens": 500, "currency": "SAR",
        "request": {"messages": HELLO, "tools": [{"type": "function", "function": {"name": "f"}}]}}).json()
    by_model = {c["model"]: c for c in answer["data"]}
    # gpt-4o-mini: 1000 × $0.15/M + 500 × $0.60/M = $0.00045
    assert by_model["gpt-4o-mini"]["fresh_cost_usd"] == "0.000450000"
    assert by_model["gpt-4o-mini"]["exact_cache_cost_usd"] == "0.000225000"
    assert Decimal(by_model["gpt-4o-mini"]["fresh_cost_sar"]) == Decimal("0.000450000") * Decimal("3.75")
    # claude-sonnet-4-5: 1000 × $3/M + 500 × $15/M = $0.0105
    assert by_model["claude-sonnet-4-5"]["fresh_cost_usd"] == "0.010500000"
    # deepseek-chat: 1000 × $0.30/M + 500 × $1.20/M = $0.0009
    assert by_model["deepseek-chat"]["fresh_cost_usd"] == "0.000900000"
    assert [c["model"] for c in answer["data"]] == ["gpt-4o-mini", "deepseek-chat", "claude-sonnet-4-5"]
    assert answer["needs"] == ["tools"] and all(c["fits"] for c in answer["data"])

    images = httpx.post(f"{stack.base_url}/quote", headers={"authorization": f"Bearer {account.key}"}, json={
        "models": ["deepseek-chat", "glm-4.6", "gpt-4.1"], "messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "https://example.test/receipt.png"}}]}]}).json()
    fitting = [c["model"] for c in images["data"] if c["fits"]]
    assert "glm-4.6" not in fitting and images["data"][-1]["unmet"] == ["vision"]


def test_policies_route_filter_and_explain(stack, fake_upstream) -> None:
    with stack.admin() as admin:
        made = admin.put("/admin/v1/policies/residency-global-cheap", json={
            "description": "global models under $1 input, cheapest first", "deny_regions": ["CN"],
            "max_input_price": "1", "sort": "price", "max_candidates": 3})
        assert made.status_code == 200, made.text
        impossible = admin.put("/admin/v1/policies/impossible", json={"allow_regions": ["CN"],
                                                                      "max_input_price": "0.0001"})
        assert impossible.status_code == 200
        bad = admin.put("/admin/v1/policies/bad", json={"sort": "vibes"})
        assert bad.status_code == 400
    time.sleep(1.5)  # the router refreshes its catalog copy every second in tests
    client = client_for(stack, stack.dev_key)
    raw = client.chat.completions.with_raw_response.create(model="nextmodel/residency-global-cheap", messages=HELLO)
    assert raw.headers["x-nextmodel-route-reason"].startswith("policy residency-global-cheap: cheapest first")
    assert fake_upstream.last.provider not in ("deepseek", "bytedance-volcengine")
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model="nextmodel/impossible", messages=HELLO)
    assert "max_input_price" in refused.value.message and refused.value.code == "no_candidate"
    with pytest.raises(openai.NotFoundError) as unknown:
        client.chat.completions.create(model="nextmodel/residency-global-chep", messages=HELLO)
    assert "residency-global-cheap" in unknown.value.message


def test_auto_uses_tag_rules_then_the_keys_default_policy(stack) -> None:
    with stack.admin() as admin:
        admin.put("/admin/v1/policies/batch-cheap", json={"candidates": ["qwen-plus"],
                                                          "match_tags": {"workload": "nightly-batch"}})
    time.sleep(1.5)
    account = new_account(stack, default_policy="reliable-chat")
    client = client_for(stack, account.key)
    default = client.chat.completions.with_raw_response.create(model="nextmodel/auto", messages=HELLO)
    assert default.headers["x-nextmodel-model"] == "gpt-4o-mini"
    tagged = client.chat.completions.with_raw_response.create(
        model="nextmodel/auto", messages=HELLO, extra_headers={"x-nextmodel-tags": "workload=nightly-batch"})
    assert tagged.headers["x-nextmodel-model"] == "qwen-plus"
    receipt = httpx.get(f"{stack.base_url}/receipts/{tagged.headers['x-nextmodel-receipt-id']}",
                        headers={"authorization": f"Bearer {account.key}"}).json()
    assert receipt["route_reason"].startswith("policy batch-cheap") and receipt["served_model"] == "qwen-plus"
    with pytest.raises(openai.BadRequestError):
        client_for(stack, new_account(stack).key).chat.completions.create(model="nextmodel/auto", messages=HELLO)


def test_an_admin_price_change_is_a_new_version(stack) -> None:
    with stack.admin() as admin:
        before = admin.get("/admin/v1/models/mistral-medium-3-5/prices").json()["data"]
        changed = admin.put("/admin/v1/models/mistral-medium-3-5/price", json={
            "input": "1.2", "output": "6", "cached_input": "0.12", "source": "https://mistral.ai/pricing (test)",
            "effective_date": "2026-12-01"})
        assert changed.status_code == 200, changed.text
        after = admin.get("/admin/v1/models/mistral-medium-3-5/prices").json()["data"]
        assert len(after) == len(before) + 1 and after[-1]["version"].startswith("2026-12-01")
        assert admin.put("/admin/v1/models/no-such-model/price", json={
            "input": "1", "output": "1", "source": "x"}).status_code == 404
        restore = before[-1]
        admin.put("/admin/v1/models/mistral-medium-3-5/price", json={
            "input": restore["input"], "output": restore["output"], "cached_input": restore["cached_input"],
            "source": restore["source"], "effective_date": restore["effective_date"]})
        assert admin.get("/admin/v1/models/mistral-medium-3-5/prices").json()["data"][-1]["version"] == \
            restore["version"], "a former price comes back as its own version"


def test_compare_runs_each_model_and_bills_each(stack) -> None:
    account = new_account(stack)
    answer = httpx.post(f"{stack.base_url}/compare", headers={"authorization": f"Bearer {account.key}"}, timeout=30,
                        json={"models": ["gpt-4o-mini", "claude-haiku-4-5", "no-such-model"],
                              "request": {"messages": [{"role": "user", "content": "compare me"}]}}).json()
    results = {r["model"]: r for r in answer["results"]}
    assert results["gpt-4o-mini"]["ok"] and results["claude-haiku-4-5"]["ok"]
    assert results["gpt-4o-mini"]["completion"]["choices"][0]["message"]["content"] == "echo: compare me"
    assert results["no-such-model"]["ok"] is False and results["no-such-model"]["error"]["code"] == "model_not_found"
    assert settled_usage(stack, account.key, 2)["total"]["requests"] == 2
