"""One settlement billing can never store does not stop billing for anyone (PostgreSQL, as in production).

A poisoned settlement (a tag value no column can hold, as an internal caller or an older edge could
send) waits in the router's outbox among real traffic. Billing keeps it as a dead letter with the
reason, counts its charge against the project's hard budget, and settles everyone else's requests.
"""

from __future__ import annotations

import signal
import sqlite3
import time

import httpx
import pytest

from nextmodel.billing.v1 import billing_pb2
from nextmodel.common.v1 import common_pb2
from nextmodel_common import ids
from tests.conftest import provider_env
from tests.support.accounts import new_account, settled_usage
from tests.support.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

POISON_VALUE = "v" * 8200


def _poisoned(account, prompt_tokens: int) -> billing_pb2.SettleRequest:
    return billing_pb2.SettleRequest(
        request_id=ids.new_request_id(), receipt_id=ids.new_receipt_id(), key_id=account.key_id,
        project_id=account.project_id, team_id=account.team_id, requested_model="gpt-4o-mini",
        served_model="gpt-4o-mini", provider="openai", served_mode=common_pb2.SERVED_MODE_FRESH,
        usage_source=common_pb2.USAGE_SOURCE_UPSTREAM,
        prompt_tokens=prompt_tokens, completion_tokens=0, cached_prompt_tokens=0, status="ok",
        price=billing_pb2.Price(version="test", input_per_mtok_usd="0.15", cached_input_per_mtok_usd="0.075",
                                output_per_mtok_usd="0.60"),
        created_unix_ms=int(time.time() * 1000), tags={"k": POISON_VALUE})


def test_a_poisoned_settlement_is_dead_lettered_while_every_other_receipt_arrives(
        postgres_url, redis_url, fake_upstream, tmp_path) -> None:
    stack = Stack(tmp_path, {**provider_env(fake_upstream), "NEXTMODEL_DATABASE_URL": postgres_url,
                             "NEXTMODEL_REDIS_URL": redis_url}).start()
    try:
        poisoned_account = new_account(stack)
        bystander = new_account(stack)
        with stack.admin() as admin:
            budget = admin.put("/admin/v1/budgets", json={"scope": "project", "scope_id": poisoned_account.project_id,
                                                          "period": "total", "limit_usd": "1", "hard": True})
            assert budget.status_code == 200, budget.text

        # The router is down while the poisoned row is put in its outbox, first in line.
        stack.stop_service("router", signal.SIGTERM)
        poison = _poisoned(poisoned_account, prompt_tokens=1_000_000)  # $0.15 at the price above
        outbox = sqlite3.connect(tmp_path / ".data" / "router-outbox.db")
        with outbox:
            outbox.execute("INSERT INTO outbox (request_id, payload) VALUES (?, ?)",
                           (poison.request_id, poison.SerializeToString()))
        outbox.close()
        stack.start_service("router")
        stack.ensure_running()

        started = time.monotonic()
        with httpx.Client(base_url=stack.base_url, headers={"authorization": f"Bearer {bystander.key}"},
                          timeout=30) as client:
            for index in range(10):
                answer = client.post("/chat/completions", json={
                    "model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"bystander {index}"}]})
                assert answer.status_code == 200, answer.text
        usage = settled_usage(stack, bystander.key, 10, timeout=10)
        arrived = time.monotonic() - started
        assert usage["total"]["requests"] == 10, "other projects' receipts are held back by the poisoned one"
        print(f"10 receipts of another project delivered {arrived:.2f} s after the first request")

        with stack.admin() as admin:
            letters = admin.get("/admin/v1/dead-letters").json()
            assert letters["total"] == 1
            letter = letters["data"][0]
            assert letter["request_id"] == poison.request_id
            assert letter["project_id"] == poisoned_account.project_id
            assert letter["reason"] == "tags: a tag value must be at most 256 characters (got 8200)"
            assert letter["charge_basis"] == "priced" and letter["charged_usd"] == "0.150000000"
            assert letter["payload_bytes"] == len(poison.SerializeToString())
            # Its usage counts against the hard budget, as a receipt's would.
            budgets = admin.get("/admin/v1/budgets", params={"scope": "project",
                                                             "scope_id": poisoned_account.project_id}).json()
            assert budgets["data"][0]["spent_usd"] == "0.150000000"
            # Redelivered (a router that crashed before it heard the answer), it is kept and counted once.
            stack.stop_service("router", signal.SIGTERM)
            outbox = sqlite3.connect(tmp_path / ".data" / "router-outbox.db")
            with outbox:
                outbox.execute("INSERT INTO outbox (request_id, payload) VALUES (?, ?)",
                               (poison.request_id, poison.SerializeToString()))
            outbox.close()
            stack.start_service("router")
            stack.ensure_running()
            deadline = time.monotonic() + 10
            while sqlite3.connect(tmp_path / ".data" / "router-outbox.db").execute(
                    "SELECT COUNT(*) FROM outbox").fetchone()[0] and time.monotonic() < deadline:
                time.sleep(0.1)
            assert admin.get("/admin/v1/dead-letters").json()["total"] == 1
            budgets = admin.get("/admin/v1/budgets", params={"scope": "project",
                                                             "scope_id": poisoned_account.project_id}).json()
            assert budgets["data"][0]["spent_usd"] == "0.150000000"
            # Operators only: a project key cannot list dead letters.
            assert httpx.get(f"{stack.edge_url}/admin/v1/dead-letters",
                             headers={"authorization": f"Bearer {bystander.key}"}).status_code == 401
        log = "".join(stack.log)
        assert "v" * 300 not in log, "the refused value reached a log"
        assert "refused" in log and "dead letter" in log
    finally:
        stack.stop()
