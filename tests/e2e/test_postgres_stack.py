"""The same Fresh path with billing and catalog on a real PostgreSQL instead of SQLite."""

from __future__ import annotations

import openai
import pytest

from tests.conftest import provider_env
from tests.support.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def test_fresh_request_and_receipt_on_postgresql(postgres_url, fake_upstream, tmp_path) -> None:
    stack = Stack(tmp_path, {**provider_env(fake_upstream), "NEXTMODEL_DATABASE_URL": postgres_url}).start()
    try:
        client = openai.OpenAI(base_url=stack.base_url, api_key=stack.dev_key, max_retries=0)
        raw = client.chat.completions.with_raw_response.create(
            model="doubao-seed-2-0-mini", messages=[{"role": "user", "content": "السلام عليكم"}]
        )
        assert raw.headers["x-nextmodel-provider"] == "bytedance-volcengine"
        receipt = client.get(f"/receipts/{raw.headers['x-nextmodel-receipt-id']}", cast_to=object)
        assert receipt["prompt_tokens"] == raw.parse().usage.prompt_tokens
        assert receipt["charged_cost_usd"] == raw.headers["x-nextmodel-cost-usd"]
    finally:
        stack.stop()
