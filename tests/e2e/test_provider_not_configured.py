"""A provider with no key is configuration, not a passing fault: 400 `provider_not_configured`
before any upstream call (SDKs do not retry a 400), `/v1/models` says which models the calling
project can use now, and a routing policy skips them and says so on the receipt."""

from __future__ import annotations

import time

import httpx
import openai
import pytest

from tests.conftest import provider_env
from tests.support.accounts import new_account
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

HELLO = [{"role": "user", "content": "hello"}]


@pytest.fixture(scope="module")
def no_openai_key(fake_upstream, tmp_path_factory):
    running = Stack(tmp_path_factory.mktemp("no-openai-key"),
                    {**provider_env(fake_upstream), "OPENAI_API_KEY": ""}).start()
    yield running
    running.stop()


def test_a_model_whose_provider_has_no_key_is_400_with_no_upstream_call(no_openai_key, fake_upstream) -> None:
    account = new_account(no_openai_key)
    calls = fake_upstream.calls
    client = openai.OpenAI(base_url=no_openai_key.base_url, api_key=account.key)  # default retries on
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    error = refused.value.body
    assert refused.value.status_code == 400 and error["code"] == "provider_not_configured"
    assert error["type"] == "invalid_request_error" and error["param"] == "model"
    assert "OPENAI_API_KEY" in error["message"] and f"/projects/{account.project_id}/provider-keys/openai" in \
        error["message"]
    assert fake_upstream.calls == calls, "no upstream call, and no SDK retry"
    models = {m["id"]: m for m in httpx.get(f"{no_openai_key.base_url}/models",
                                             headers={"authorization": f"Bearer {account.key}"}).json()["data"]}
    assert models["gpt-4o-mini"]["available"] is False and models["deepseek-chat"]["available"] is True
    single = httpx.get(f"{no_openai_key.base_url}/models/gpt-4o-mini",
                       headers={"authorization": f"Bearer {account.key}"}).json()
    assert single["available"] is False


def test_a_projects_own_key_makes_the_model_available_for_that_project_only(no_openai_key, fake_upstream) -> None:
    own, other = new_account(no_openai_key), new_account(no_openai_key)
    with no_openai_key.admin() as admin:
        stored = admin.put(f"/admin/v1/projects/{own.project_id}/provider-keys/openai",
                           json={"api_key": "sk-project-own-key-0000"})
        assert stored.status_code == 200, stored.text
    deadline = time.monotonic() + 10  # the router's auth cache learns of the key within its TTL
    while True:
        answer = httpx.post(f"{no_openai_key.base_url}/chat/completions", timeout=30,
                            headers={"authorization": f"Bearer {own.key}"},
                            json={"model": "gpt-4o-mini", "messages": HELLO})
        if answer.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert answer.status_code == 200, answer.text
    assert fake_upstream.last.headers["authorization"] == "Bearer sk-project-own-key-0000"
    refused = httpx.post(f"{no_openai_key.base_url}/chat/completions", timeout=30,
                         headers={"authorization": f"Bearer {other.key}"},
                         json={"model": "gpt-4o-mini", "messages": HELLO})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "provider_not_configured"


def test_a_policy_skips_a_candidate_with_no_key_and_says_so_on_the_receipt(no_openai_key) -> None:
    account = new_account(no_openai_key)
    with no_openai_key.admin() as admin:
        put = admin.put("/admin/v1/policies/openai-first", json={"candidates": ["gpt-4o-mini", "deepseek-chat"]})
        assert put.status_code == 200, put.text
    deadline = time.monotonic() + 10  # routers see a new policy at their next catalog refresh
    while True:
        answer = httpx.post(f"{no_openai_key.base_url}/chat/completions", timeout=30,
                            headers={"authorization": f"Bearer {account.key}"},
                            json={"model": "nextmodel/openai-first", "messages": HELLO})
        if answer.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-nextmodel-model"] == "deepseek-chat"
    assert "skipped openai (no API key configured)" in answer.headers["x-nextmodel-route-reason"]
    receipt = httpx.get(f"{no_openai_key.base_url}/receipts/{answer.headers['x-nextmodel-receipt-id']}",
                        headers={"authorization": f"Bearer {account.key}"}, timeout=30).json()
    assert "skipped openai (no API key configured)" in receipt["route_reason"]
