"""The one interface billing's storage offers. `SqlBillingStore` implements it for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from nextmodel_billing.domain import CacheSettings, Principal, Receipt


@dataclass(frozen=True)
class KeyRecord:
    principal: Principal
    revoked: bool
    expires_unix_ms: int | None


@dataclass(frozen=True)
class TeamRow:
    id: str
    name: str
    created_unix_ms: int
    cache_shared: bool = False


@dataclass(frozen=True)
class ProjectRow:
    id: str
    team_id: str
    name: str
    created_unix_ms: int
    cache: CacheSettings = field(default_factory=CacheSettings)


@dataclass(frozen=True)
class KeyRow:
    id: str
    project_id: str
    prefix: str
    name: str
    created_unix_ms: int
    expires_unix_ms: int | None = None
    revoked_unix_ms: int | None = None
    allowed_models: tuple[str, ...] = ()
    default_policy: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    requests_per_minute: int = 0
    tokens_per_minute: int = 0


@dataclass(frozen=True)
class BudgetRow:
    id: str
    scope: str
    scope_id: str
    period: str
    limit_nano_usd: int
    hard: bool
    period_key: str = ""
    spent_nano_usd: int = 0
    reserved_nano_usd: int = 0


@dataclass(frozen=True)
class ReservationResult:
    reservation_id: str
    remaining_nano_usd: int | None
    soft_exceeded: bool


@dataclass(frozen=True)
class DeadLetter:
    """A settlement refused for good, kept whole with the reason (schema.dead_letters)."""

    id: str
    request_key: str
    created_unix_ms: int
    request_id: str
    receipt_id: str
    key_id: str
    project_id: str
    team_id: str
    charged_cost_nano_usd: int
    charge_basis: str  # priced (the receipt's cost) | reserved (its reservation's worst case) | none
    reason: str
    payload: bytes
    reservation_id: str = ""  # not stored: the reservation it settles


class BudgetExceeded(Exception):
    def __init__(self, budget: BudgetRow, available_nano_usd: int) -> None:
        super().__init__(f"{budget.scope} budget {budget.id} ({budget.period}) cannot cover the request")
        self.budget = budget
        self.available_nano_usd = available_nano_usd


@dataclass(frozen=True)
class UsageFilter:
    start_unix_ms: int = 0
    end_unix_ms: int = 0
    project_id: str = ""
    team_id: str = ""
    key_id: str = ""
    model: str = ""
    provider: str = ""
    served_mode: str = ""
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UsageTotals:
    group: str
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_prompt_tokens: int = 0
    list_cost_nano_usd: int = 0
    discount_nano_usd: int = 0
    charged_cost_nano_usd: int = 0


class BillingStore(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...

    # accounts
    async def find_key(self, key_hash: str, *, now_ms: int) -> KeyRecord | None: ...
    async def create_team(self, team: TeamRow) -> bool: ...
    async def list_teams(self) -> list[TeamRow]: ...
    async def get_team(self, team_id: str) -> TeamRow | None: ...
    async def create_project(self, project: ProjectRow) -> bool: ...
    async def update_project(self, project_id: str, *, name: str | None,
                             cache: CacheSettings | None) -> ProjectRow | None: ...
    async def list_projects(self, team_id: str = "") -> list[ProjectRow]: ...
    async def get_project(self, project_id: str) -> ProjectRow | None: ...
    async def add_key(self, key: KeyRow, key_hash: str) -> bool: ...
    async def update_key(self, key_id: str, changes: dict) -> KeyRow | None: ...
    async def list_keys(self, project_id: str) -> list[KeyRow]: ...
    async def count_keys(self, project_id: str) -> int: ...

    # budgets and reservations
    async def set_budget(self, budget: BudgetRow, *, now_ms: int) -> BudgetRow: ...
    async def list_budgets(self, scope: str = "", scope_id: str = "", *, now_ms: int) -> list[BudgetRow]: ...
    async def delete_budget(self, budget_id: str) -> bool: ...
    async def reserve(self, *, request_id: str, key_id: str, project_id: str, team_id: str, amount_nano_usd: int,
                      now_ms: int, ttl_ms: int) -> ReservationResult | None: ...
    async def release(self, *, reservation_id: str, request_id: str) -> bool: ...
    async def expire_reservations(self, *, now_ms: int) -> int: ...

    # ledger
    async def record(self, receipts: list[Receipt], reservation_ids: list[str]) -> list[Receipt]: ...
    async def dead_letter(self, letter: DeadLetter) -> DeadLetter: ...
    async def list_dead_letters(self, *, limit: int, after_id: str = "") -> list[DeadLetter]: ...
    async def count_dead_letters(self) -> int: ...
    async def get_receipt(self, receipt_id: str) -> Receipt | None: ...
    async def list_receipts(self, project_id: str, *, limit: int, after_id: str) -> list[Receipt]: ...
    async def usage(self, group_by: str, where: UsageFilter) -> list[UsageTotals]: ...
    def export(self, where: UsageFilter, batch: int) -> AsyncIterator[Sequence[Mapping]]: ...

    # provider keys
    async def set_provider_key(self, project_id: str, provider: str, ciphertext: str, *, now_ms: int) -> None: ...
    async def delete_provider_key(self, project_id: str, provider: str) -> bool: ...
    async def list_provider_keys(self, project_id: str) -> list[tuple[str, int]]: ...
    async def get_provider_key(self, project_id: str, provider: str) -> str | None: ...
