"""A key is refused from its expires_at on, whatever the router's authentication cache holds."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.support.accounts import new_account

pytestmark = pytest.mark.e2e


def test_an_expired_key_is_refused_at_once(stack, fake_upstream) -> None:
    expires = datetime.now(UTC) + timedelta(seconds=3)
    account = new_account(stack, expires_at=expires.isoformat())
    headers = {"authorization": f"Bearer {account.key}"}
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "before expiry"}]}
    with httpx.Client(base_url=stack.base_url, headers=headers, timeout=30) as client:
        assert client.post("/chat/completions", json=body).status_code == 200  # now in the auth cache
        time.sleep(max(0.0, expires.timestamp() - time.time()) + 0.05)
        refused = client.post("/chat/completions", json=body)
        assert refused.status_code == 401, refused.text
        assert refused.json()["error"]["code"] == "invalid_api_key"
