from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from nextmodel_billing.domain import Principal, Receipt


@dataclass(frozen=True)
class KeyRecord:
    principal: Principal
    revoked: bool
    expires_unix_ms: int | None


class BillingStore(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def find_key(self, key_hash: str) -> KeyRecord | None: ...

    async def ensure_team(self, team_id: str, name: str, *, now_ms: int) -> None: ...

    async def ensure_project(self, project_id: str, team_id: str, name: str, *, now_ms: int) -> None: ...

    async def add_key(self, *, key_id: str, project_id: str, key_hash: str, prefix: str, name: str,
                      now_ms: int) -> bool:
        """Insert a key; False when a key with that hash already exists."""

    async def count_keys(self, project_id: str) -> int: ...

    async def record(self, receipt: Receipt) -> Receipt:
        """Append the receipt (and its ledger row) unless its request id is already recorded;
        return whichever receipt is stored for that request id."""

    async def get_receipt(self, receipt_id: str) -> Receipt | None: ...

    async def list_receipts(self, project_id: str, *, limit: int, after_id: str) -> list[Receipt]: ...
