"""Usage survives billing going away mid-traffic; price changes never rewrite old receipts."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx
import openai
import pytest
import yaml

from nextmodel_catalog.config import DEFAULT_SEED
from tests.conftest import provider_env
from tests.support.accounts import new_account
from tests.support.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def test_billing_stopped_during_traffic_loses_no_usage_and_counts_none_twice(
        postgres_url, redis_url, fake_upstream, tmp_path) -> None:
    stack = Stack(tmp_path, {**provider_env(fake_upstream), "NEXTMODEL_DATABASE_URL": postgres_url,
                             "NEXTMODEL_REDIS_URL": redis_url}).start()
    try:
        account = new_account(stack)
        client = openai.OpenAI(base_url=stack.base_url, api_key=account.key, max_retries=0)
        served: list[str] = []
        failures: list[str] = []
        stop = threading.Event()

        def traffic() -> None:
            index = 0
            while not stop.is_set():
                index += 1
                try:
                    raw = client.chat.completions.with_raw_response.create(
                        model="gpt-4o-mini", messages=[{"role": "user", "content": f"request {index}"}])
                    served.append(raw.headers["x-request-id"])
                except openai.APIError as error:
                    failures.append(repr(error))
                time.sleep(0.02)

        worker = threading.Thread(target=traffic)
        worker.start()
        time.sleep(1.0)
        stack.stop_service("billing", signal.SIGKILL)  # a crash, not a graceful stop
        down_from = len(served)
        time.sleep(6.5)  # longer than the router's 5 s authentication cache
        served_while_down = len(served) - down_from
        stack.start_service("billing")
        time.sleep(1.0)
        stop.set()
        worker.join()

        assert not failures, failures[:3]
        assert served_while_down > 20, "the gateway kept serving while billing was down"
        headers = {"authorization": f"Bearer {account.key}"}

        def settled() -> int:
            return httpx.get(f"{stack.base_url}/usage", headers=headers).json()["total"]["requests"]

        deadline = time.monotonic() + 20
        while settled() < len(served) and time.monotonic() < deadline:
            time.sleep(0.2)
        exported = httpx.get(f"{stack.base_url}/usage/export", params={"format": "jsonl"}, headers=headers).text
        request_ids = [line.split('"request_id":"')[1].split('"')[0] for line in exported.splitlines()]
        assert sorted(request_ids) == sorted(served), "every served request has exactly one receipt"
    finally:
        stack.stop()


def test_a_price_change_is_a_new_version_and_old_receipts_keep_theirs(fake_upstream, tmp_path: Path) -> None:
    stack = Stack(tmp_path, provider_env(fake_upstream)).start()
    try:
        client = openai.OpenAI(base_url=stack.base_url, api_key=stack.dev_key, max_retries=0)
        headers = {"authorization": f"Bearer {stack.dev_key}"}
        before = client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "price check"}])
        old_url = f"{stack.base_url}/receipts/{before.headers['x-nextmodel-receipt-id']}"
        old_receipt = httpx.get(old_url, headers=headers).json()
        assert old_receipt["price"]["input_per_mtok_usd"] == "0.15"

        seed = yaml.safe_load(DEFAULT_SEED.read_text())
        for model in seed["models"]:
            if model["id"] == "gpt-4o-mini":
                model["price"].update(input="0.30", effective_date="2026-12-01")
        new_seed = tmp_path / "seed.yaml"
        new_seed.write_text(yaml.safe_dump(seed, allow_unicode=True))
        stack.stop_service("catalog")
        stack.start_service("catalog", extra_env={"NEXTMODEL_CATALOG_SEED_PATH": str(new_seed)})

        def pricing() -> dict:
            return client.models.retrieve("gpt-4o-mini").model_extra["pricing"]

        deadline = time.monotonic() + 15
        while pricing()["input"] != "0.30" and time.monotonic() < deadline:
            time.sleep(0.2)
        after = client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "price check"}])
        new_receipt = httpx.get(f"{stack.base_url}/receipts/{after.headers['x-nextmodel-receipt-id']}",
                                headers=headers).json()
        assert new_receipt["price"]["version"] != old_receipt["price"]["version"]
        assert new_receipt["price"]["version"].startswith("2026-12-01")
        assert new_receipt["price"]["input_per_mtok_usd"] == "0.30"
        assert new_receipt["list_cost_nano_usd"] > old_receipt["list_cost_nano_usd"]
        assert httpx.get(old_url, headers=headers).json() == old_receipt, "an old receipt is never rewritten"
    finally:
        stack.stop()
