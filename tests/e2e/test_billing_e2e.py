"""Billing through the real stack: keys, admin API, receipts, spend, exports, budgets,
provider keys and rate limits, on the embedded stack and on PostgreSQL + Redis."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import httpx
import openai
import orjson
import pytest

from nextmodel_common import money
from nextmodel_router.chat import worst_case_nano
from tests.support.accounts import new_account, settled_usage
from tests.support.stack import RECEIPT_SECRET

pytestmark = pytest.mark.e2e

HELLO = [{"role": "user", "content": "hello there"}]


def sdk(stack, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=stack.base_url, api_key=key, max_retries=0)


def until(predicate, timeout: float = 10.0, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("condition not met in time")


def usage(stack, key: str, **params) -> dict:
    answer = httpx.get(f"{stack.base_url}/usage", params=params, headers={"authorization": f"Bearer {key}"})
    assert answer.status_code == 200, answer.text
    return answer.json()


class TestKeysAndAdmin:
    def test_a_new_key_is_shown_once_stored_hashed_and_works(self, stack) -> None:
        account = new_account(stack, tags={"environment": "staging"})
        assert account.key.startswith("nm-")
        with stack.admin() as admin:
            listed = admin.get("/admin/v1/keys", params={"project_id": account.project_id}).json()["data"]
        assert [k["id"] for k in listed] == [account.key_id]
        assert "key" not in listed[0] and account.key.startswith(listed[0]["prefix"])
        database = (stack.workdir / "nextmodel.db").read_bytes()
        assert account.key.encode() not in database, "only the hash of a key is stored"
        completion = sdk(stack, account.key).chat.completions.create(model="gpt-4o-mini", messages=HELLO)
        assert completion.choices[0].message.content == "echo: hello there"

    def test_revocation_takes_effect_within_seconds(self, stack) -> None:
        account = new_account(stack)
        client = sdk(stack, account.key)
        client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)  # now cached by the router
        with stack.admin() as admin:
            assert admin.post(f"/admin/v1/keys/{account.key_id}/revoke").json()["revoked"] is True
        revoked_at = time.monotonic()

        def refused() -> bool:
            try:
                client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
                return False
            except openai.AuthenticationError:
                return True

        until(refused, timeout=10, step=0.25)
        assert time.monotonic() - revoked_at < 7

    def test_admin_routes_need_the_admin_key(self, stack) -> None:
        account = new_account(stack)
        body = {"name": "intruders"}
        assert httpx.post(f"{stack.edge_url}/admin/v1/teams", json=body).status_code == 401
        as_project = httpx.post(f"{stack.edge_url}/admin/v1/teams", json=body,
                                headers={"authorization": f"Bearer {account.key}"})
        assert as_project.status_code == 401 and as_project.json()["error"]["code"] == "admin_key_required"

    def test_malformed_admin_requests_name_the_field(self, stack) -> None:
        with stack.admin() as admin:
            missing = admin.post("/admin/v1/keys", json={"name": "no project"})
            assert missing.status_code == 400 and missing.json()["error"]["param"] == "project_id"
            negative = admin.put("/admin/v1/budgets", json={"scope": "project", "scope_id": "x", "period": "daily",
                                                            "limit_usd": "-1"})
            assert negative.status_code == 400 and negative.json()["error"]["param"] == "limit_usd"
            unknown = admin.post("/admin/v1/projects", json={"team_id": "team_nope", "name": "p"})
            assert unknown.status_code == 404 and unknown.json()["error"]["param"] == "team_id"
            broken = admin.post("/admin/v1/teams", content=b"{not json", headers={"content-type": "application/json"})
            assert broken.status_code == 400

    def test_a_key_may_be_limited_to_some_models(self, stack) -> None:
        account = new_account(stack, allowed_models=["gpt-4o-mini"])
        client = sdk(stack, account.key)
        client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
        with pytest.raises(openai.PermissionDeniedError):
            client.chat.completions.create(model="gpt-4.1", messages=HELLO)
        assert [m.id for m in client.models.list().data] == ["gpt-4o-mini"]


class TestReceiptsAndSpend:
    def test_receipts_are_private_to_their_project(self, stack) -> None:
        alice, bob = new_account(stack), new_account(stack)
        raw = sdk(stack, alice.key).chat.completions.with_raw_response.create(model="deepseek-chat", messages=HELLO)
        receipt_id = raw.headers["x-nextmodel-receipt-id"]
        url = f"{stack.base_url}/receipts/{receipt_id}"
        assert httpx.get(url, headers={"authorization": f"Bearer {alice.key}"}).status_code == 200
        stranger = httpx.get(url, headers={"authorization": f"Bearer {bob.key}"})
        assert stranger.status_code == 404 and stranger.json()["error"]["code"] == "receipt_not_found"
        assert httpx.get(url, headers={"authorization": f"Bearer {stack.admin_key}"}).status_code == 200
        assert usage(stack, bob.key)["total"]["requests"] == 0
        asked = httpx.get(f"{stack.base_url}/usage", params={"project_id": alice.project_id},
                          headers={"authorization": f"Bearer {bob.key}"})
        assert asked.status_code == 404, "a project key cannot read another project's spend"

    def test_usage_groups_and_exports_sum_exactly(self, stack) -> None:
        account = new_account(stack, tags={"environment": "prod"})
        client = sdk(stack, account.key)
        for index, model in enumerate(["gpt-4o-mini", "gpt-4o-mini", "deepseek-chat", "claude-haiku-4-5"] * 3):
            workload = "chat" if index % 2 else "batch"
            client.chat.completions.create(model=model, messages=[{"role": "user", "content": f"question {index}"}],
                                           extra_headers={"x-nextmodel-tags": f"workload={workload}"})
        settled_usage(stack, account.key, 12)
        by_model = usage(stack, account.key, group_by="model", currency="SAR")
        assert {g["group"]: g["requests"] for g in by_model["data"]} == {
            "gpt-4o-mini": 6, "deepseek-chat": 3, "claude-haiku-4-5": 3}
        total = by_model["total"]
        assert total["requests"] == 12
        assert Decimal(total["charged_cost_sar"]) == Decimal(total["charged_cost_usd"]) * Decimal("3.75")
        by_provider = usage(stack, account.key, group_by="provider")
        assert {g["group"] for g in by_provider["data"]} == {"openai", "deepseek", "anthropic"}
        by_workload = usage(stack, account.key, group_by="tag:workload")
        assert {g["group"]: g["requests"] for g in by_workload["data"]} == {"chat": 6, "batch": 6}
        by_environment = usage(stack, account.key, group_by="tag:environment")
        assert by_environment["data"][0]["group"] == "prod", "key tags label the usage too"
        assert usage(stack, account.key, group_by="served_mode")["data"][0]["group"] == "fresh"
        assert usage(stack, account.key, tag="workload:chat")["total"]["requests"] == 6

        headers = {"authorization": f"Bearer {account.key}"}
        csv_rows = httpx.get(f"{stack.base_url}/usage/export", params={"format": "csv"}, headers=headers).text
        lines = csv_rows.strip().splitlines()
        assert len(lines) == 13 and lines[0].startswith("id,created_at")
        charged_column = lines[0].split(",").index("charged_cost_nano_usd")
        assert sum(int(line.split(",")[charged_column]) for line in lines[1:]) == total["charged_cost_nano_usd"]
        jsonl = httpx.get(f"{stack.base_url}/usage/export", params={"format": "jsonl"}, headers=headers).text
        rows = [orjson.loads(line) for line in jsonl.splitlines()]
        assert sum(r["charged_cost_nano_usd"] for r in rows) == total["charged_cost_nano_usd"]
        assert {r["project_id"] for r in rows} == {account.project_id}

    def test_exported_receipts_verify_offline_and_tampering_is_caught(self, stack, tmp_path: Path) -> None:
        account = new_account(stack)
        sdk(stack, account.key).chat.completions.create(model="gpt-4.1", messages=HELLO)
        settled_usage(stack, account.key, 1)
        exported = httpx.get(f"{stack.base_url}/usage/export", params={"format": "jsonl"},
                             headers={"authorization": f"Bearer {account.key}"}).text
        good, bad = tmp_path / "receipts.jsonl", tmp_path / "tampered.jsonl"
        good.write_text(exported)
        row = orjson.loads(exported.splitlines()[0])
        row["charged_cost_nano_usd"] -= 1
        bad.write_text(orjson.dumps(row).decode() + "\n")
        env = {**os.environ, "NEXTMODEL_RECEIPT_SECRET": RECEIPT_SECRET}
        verify = [sys.executable, "-m", "nextmodel_cli.main", "receipts", "verify"]
        ok = subprocess.run([*verify, str(good)], env=env, capture_output=True, text=True)
        assert ok.returncode == 0 and "1 verified, 0 failed" in ok.stdout
        tampered = subprocess.run([*verify, str(bad)], env=env, capture_output=True, text=True)
        assert tampered.returncode == 1 and "FAILED" in tampered.stdout
        # A receipt fetched from the API verifies too.
        single = tmp_path / "one.json"
        single.write_text(httpx.get(f"{stack.base_url}/receipts/{row['id']}",
                                    headers={"authorization": f"Bearer {account.key}"}).text)
        assert subprocess.run([*verify, str(single)], env=env, capture_output=True).returncode == 0


class TestBudgets:
    async def test_concurrent_requests_never_spend_past_a_hard_budget(self, any_stack, fake_upstream) -> None:
        stack = any_stack
        account = new_account(stack)
        body = {"model": "gpt-4o-mini", "max_tokens": 20, "messages": [{"role": "user", "content": "one two three"}]}
        route = SimpleNamespace(input_per_mtok=Decimal("0.15"), output_per_mtok=Decimal("0.6"), max_output_tokens=16384)
        worst = worst_case_nano(route, body)
        limit = worst * 10 + worst // 2  # room for about ten requests at their worst case
        with stack.admin() as admin:
            budget = admin.put("/admin/v1/budgets", json={
                "scope": "project", "scope_id": account.project_id, "period": "daily",
                "limit_usd": money.usd(limit), "hard": True})
            assert budget.status_code == 200, budget.text
        calls_before = fake_upstream.calls
        headers = {"authorization": f"Bearer {account.key}"}
        async with httpx.AsyncClient(timeout=30) as client:
            answers = await asyncio.gather(*(client.post(f"{stack.base_url}/chat/completions", json=body,
                                                         headers=headers) for _ in range(50)))
        served = [a for a in answers if a.status_code == 200]
        refused = [a for a in answers if a.status_code == 429]
        assert len(served) + len(refused) == 50
        assert all(a.json()["error"]["code"] == "budget_exceeded" and int(a.headers["retry-after"]) > 0
                   for a in refused)
        assert fake_upstream.calls - calls_before == len(served), "a refused request never reaches the upstream"
        actual = served[0].json()["nextmodel"]["cost_usd"]
        assert 10 <= len(served) <= limit // (Decimal(actual) * money.NANO_PER_USD)
        spent = settled_usage(stack, account.key, len(served))["total"]
        assert spent["requests"] == len(served)
        assert spent["charged_cost_nano_usd"] <= limit
        with stack.admin() as admin:
            [state] = admin.get("/admin/v1/budgets", params={"scope": "project",
                                                             "scope_id": account.project_id}).json()["data"]
        assert Decimal(state["reserved_usd"]) == 0, "no reservation is left dangling"
        assert Decimal(state["spent_usd"]) * money.NANO_PER_USD == spent["charged_cost_nano_usd"]

    def test_a_soft_budget_warns_in_a_header(self, stack) -> None:
        account = new_account(stack)
        with stack.admin() as admin:
            admin.put("/admin/v1/budgets", json={"scope": "key", "scope_id": account.key_id, "period": "monthly",
                                                 "limit_usd": "0.000001", "hard": False})
        raw = sdk(stack, account.key).chat.completions.with_raw_response.create(model="gpt-4.1", messages=HELLO)
        remaining = Decimal(raw.headers["x-nextmodel-budget-remaining"])
        assert remaining == Decimal("0.000001") - Decimal(raw.headers["x-nextmodel-cost-usd"])
        assert remaining < 0, "a soft budget lets the request through and says it is over"


class TestProviderKeysAndLimits:
    def test_a_projects_own_provider_key_is_used_and_never_returned(self, stack, fake_upstream) -> None:
        account = new_account(stack)
        own_key = "sk-own-deepseek-key-of-this-project"
        with stack.admin() as admin:
            stored = admin.put(f"/admin/v1/projects/{account.project_id}/provider-keys/deepseek",
                               json={"api_key": own_key})
            assert stored.status_code == 200 and own_key not in stored.text
            listed = admin.get(f"/admin/v1/projects/{account.project_id}/provider-keys").text
            assert "deepseek" in listed and own_key not in listed
        until(lambda: _served_with(stack, account, fake_upstream, own_key), timeout=10, step=0.5)
        raw = sdk(stack, account.key).chat.completions.with_raw_response.create(model="deepseek-chat", messages=HELLO)
        receipt = httpx.get(f"{stack.base_url}/receipts/{raw.headers['x-nextmodel-receipt-id']}",
                            headers={"authorization": f"Bearer {account.key}"}).json()
        assert receipt["credential_source"] == "project"
        # Other projects and other providers keep the platform key.
        sdk(stack, account.key).chat.completions.create(model="gpt-4o-mini", messages=HELLO)
        assert fake_upstream.last.headers["authorization"] == "Bearer sk-test-openai-upstream-secret"
        assert own_key.encode() not in (stack.workdir / "nextmodel.db").read_bytes()

    @pytest.mark.parametrize("limits", ["memory", "redis"])
    def test_requests_per_minute_are_limited(self, request, limits) -> None:
        stack = request.getfixturevalue("stack" if limits == "memory" else "prod_stack")
        if 60 - time.time() % 60 < 6:
            time.sleep(60 - time.time() % 60 + 0.5)  # keep the burst inside one window
        account = new_account(stack, requests_per_minute=3)
        client = sdk(stack, account.key)
        for _ in range(3):
            client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
        with pytest.raises(openai.RateLimitError) as refused:
            client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
        assert refused.value.code == "rate_limit_exceeded"
        assert 1 <= int(refused.value.response.headers["retry-after"]) <= 60


def _served_with(stack, account, fake_upstream, own_key: str) -> bool:
    sdk(stack, account.key).chat.completions.create(model="deepseek-chat", messages=HELLO)
    return fake_upstream.last.headers["authorization"] == f"Bearer {own_key}"


class TestNothingHalfWritten:
    def test_a_failed_request_leaves_no_charge_and_no_reservation(self, stack, fake_upstream) -> None:
        account = new_account(stack)
        with stack.admin() as admin:
            admin.put("/admin/v1/budgets", json={"scope": "project", "scope_id": account.project_id,
                                                 "period": "total", "limit_usd": "10", "hard": True})
        fake_upstream.fail_next(500)
        with pytest.raises(openai.InternalServerError):
            sdk(stack, account.key).chat.completions.create(model="kimi-k2.6", messages=HELLO)
        assert usage(stack, account.key)["total"]["requests"] == 0

        def released() -> bool:
            with stack.admin() as admin:
                [state] = admin.get("/admin/v1/budgets", params={"scope_id": account.project_id}).json()["data"]
            return Decimal(state["reserved_usd"]) == 0 and Decimal(state["spent_usd"]) == 0

        until(released, timeout=5)


def test_the_command_line_covers_the_admin_operations(stack) -> None:
    env = {**os.environ, "NEXTMODEL_URL": stack.edge_url, "NEXTMODEL_ADMIN_KEY": stack.admin_key}

    def cli(*args: str, stdin: str | None = None) -> dict:
        done = subprocess.run([sys.executable, "-m", "nextmodel_cli.main", *args], env=env, input=stdin,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return orjson.loads(done.stdout) if done.stdout.strip() else {}

    team = cli("teams", "create", "Riyadh analytics")
    project = cli("projects", "create", "--team", team["id"], "chatbot")
    key = cli("keys", "create", "--project", project["id"], "--tag", "environment=prod", "--rpm", "100")
    assert key["key"].startswith("nm-") and key["tags"] == {"environment": "prod"}
    budget = cli("budgets", "set", "--scope", "project", "--scope-id", project["id"], "--period", "monthly",
                 "--limit-usd", "25.50")
    assert budget["limit_usd"] == "25.500000000"
    cli("provider-keys", "set", "--project", project["id"], "--provider", "openai", stdin="sk-from-stdin\n")
    assert cli("provider-keys", "list", "--project", project["id"])["data"][0]["provider"] == "openai"
    sdk(stack, key["key"]).chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    settled_usage(stack, key["key"], 1)
    env["NEXTMODEL_API_KEY"] = key["key"]
    del env["NEXTMODEL_ADMIN_KEY"]
    assert cli("usage", "summary", "--currency", "SAR")["total"]["requests"] == 1
    env["NEXTMODEL_ADMIN_KEY"] = stack.admin_key
    assert cli("keys", "revoke", key["id"])["revoked"] is True
