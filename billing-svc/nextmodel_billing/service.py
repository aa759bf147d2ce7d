"""Billing's use cases: authenticate a key, settle usage into a receipt, read receipts."""

from __future__ import annotations

import logging
import time

from nextmodel_billing import keys
from nextmodel_billing.domain import Principal, Receipt, Usage, build_receipt
from nextmodel_billing.store import BillingStore

log = logging.getLogger(__name__)

DEFAULT_TEAM_ID = "team_default"
DEFAULT_PROJECT_ID = "proj_default"


class AuthError(Exception):
    """The key is unknown, revoked or expired. The reason is logged, never shown to the caller."""


class BillingService:
    def __init__(self, store: BillingStore, receipt_secret: bytes) -> None:
        self.store = store
        self.receipt_secret = receipt_secret

    async def authenticate(self, api_key: str) -> Principal:
        if not keys.looks_like_key(api_key):
            raise AuthError("malformed")
        record = await self.store.find_key(keys.hash_key(api_key))
        if record is None:
            raise AuthError("unknown")
        if record.revoked:
            raise AuthError("revoked")
        if record.expires_unix_ms is not None and record.expires_unix_ms <= _now_ms():
            raise AuthError("expired")
        return record.principal

    async def settle(self, usage: Usage) -> Receipt:
        """Price and record usage. Idempotent: settling a request id twice returns the first receipt."""
        return await self.store.record(build_receipt(usage, self.receipt_secret))

    async def receipt(self, receipt_id: str, project_id: str | None) -> Receipt | None:
        """A receipt, only if it belongs to `project_id` (None: an admin caller)."""
        receipt = await self.store.get_receipt(receipt_id)
        if receipt is None or (project_id is not None and receipt.project_id != project_id):
            return None
        return receipt

    async def receipts(self, project_id: str, *, limit: int = 100, after_id: str = "") -> list[Receipt]:
        return await self.store.list_receipts(project_id, limit=max(1, min(limit, 1000)), after_id=after_id)

    async def bootstrap_dev(self, dev_key: str | None) -> str | None:
        """Create the default team, project and a development key.

        With `dev_key` that key is made sure to exist. Without it a key is generated
        only when the default project has none yet. Returns the development key when
        it is known (to print it), None when an earlier generated one exists.
        """
        now = _now_ms()
        await self.store.ensure_team(DEFAULT_TEAM_ID, "Default team", now_ms=now)
        await self.store.ensure_project(DEFAULT_PROJECT_ID, DEFAULT_TEAM_ID, "Default project", now_ms=now)
        if dev_key is None and await self.store.count_keys(DEFAULT_PROJECT_ID) > 0:
            return None
        key = dev_key or keys.generate_key()
        key_hash = keys.hash_key(key)
        await self.store.add_key(
            key_id="key_" + key_hash[:16], project_id=DEFAULT_PROJECT_ID, key_hash=key_hash,
            prefix=keys.visible_prefix(key), name="development key", now_ms=now,
        )
        return key


def _now_ms() -> int:
    return int(time.time() * 1000)
