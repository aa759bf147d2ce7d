"""Billing's use cases: keys and accounts, budgets and reservations, settling usage into
receipts, spend summaries and exports, and projects' own provider keys.

User-facing refusals are `GatewayError`s (OpenAI-shaped, with the HTTP status); the servicer
turns them into gRPC status codes.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import orjson
from opentelemetry import metrics
from ulid import ULID

from nextmodel_billing import keys, settlement
from nextmodel_billing.budgets import PERIODS, SCOPES, resets_at_ms
from nextmodel_billing.crypto import SecretBox
from nextmodel_billing.domain import CacheSettings, Principal, Receipt, Usage
from nextmodel_billing.store import BillingStore
from nextmodel_billing.store.base import (
    BudgetExceeded,
    BudgetRow,
    DeadLetter,
    KeyRow,
    ProjectRow,
    ReservationResult,
    TeamRow,
    UsageFilter,
    UsageTotals,
)
from nextmodel_common import money
from nextmodel_common.access import is_admin_key
from nextmodel_common.errors import GatewayError

log = logging.getLogger(__name__)
_dead_letters = metrics.get_meter("nextmodel.billing").create_counter(
    "nextmodel.billing.dead_letters", unit="{settlement}",
    description="Settlements refused for good and kept as dead letters, by the field or rule that refused them")

DEFAULT_TEAM_ID = "team_default"
DEFAULT_PROJECT_ID = "proj_default"
GROUPS = ("key", "project", "team", "model", "provider", "served_mode", "day", "")
_PROVIDER_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
EXPORT_COLUMNS = (
    "id", "created_at", "created_unix_ms", "request_id", "key_id", "project_id", "team_id", "requested_model",
    "served_model", "provider", "served_mode", "usage_source", "prompt_tokens", "completion_tokens",
    "cached_prompt_tokens", "price_version", "input_per_mtok_usd", "cached_input_per_mtok_usd",
    "output_per_mtok_usd", "list_cost_nano_usd", "discount_nano_usd", "charged_cost_nano_usd", "charged_cost_usd",
    "latency_ms", "status", "credential_source", "replayed_receipt_id", "route_reason", "tags", "signature",
)


class AuthError(Exception):
    """The key is unknown, revoked or expired. The reason is logged, never shown to the caller."""


@dataclass(frozen=True)
class Caller:
    """Who is reading: the admin (every project) or one project's key."""

    admin: bool
    project_id: str = ""
    team_id: str = ""


def _now_ms() -> int:
    return int(time.time() * 1000)


RECENT_RECEIPT_WAIT_SECONDS = 3.0


def _minted_recently(receipt_id: str, within_seconds: float = 30.0) -> bool:
    """Receipt ids are rcpt_<ULID>; a ULID carries the moment it was made."""
    try:
        minted = ULID.from_str(receipt_id.removeprefix("rcpt_")).timestamp
    except ValueError:
        return False
    return 0 <= time.time() - minted <= within_seconds


def _name(value: str, field: str) -> str:
    value = (value or "").strip()
    if not value or len(value) > 200:
        raise GatewayError(400, f"'{field}' must be 1 to 200 characters.", param=field, code="invalid_value")
    return value


def _not_found(what: str, ident: str, param: str) -> GatewayError:
    return GatewayError(404, f"No {what} {ident!r}.", param=param, code=f"{what.replace(' ', '_')}_not_found")


class BillingService:
    def __init__(self, store: BillingStore, receipt_secret: bytes, *, secret_key: bytes = b"",
                 admin_key: str | None = None, reservation_ttl_seconds: int = 900) -> None:
        self.store = store
        self.receipt_secret = receipt_secret
        self.box = SecretBox(secret_key) if secret_key else None
        self.admin_key = admin_key
        self.reservation_ttl_ms = reservation_ttl_seconds * 1000

    # -- who is calling ---------------------------------------------------------------

    async def authenticate(self, api_key: str) -> Principal:
        if not keys.looks_like_key(api_key):
            raise AuthError("malformed")
        record = await self.store.find_key(keys.hash_key(api_key), now_ms=_now_ms())
        if record is None:
            raise AuthError("unknown")
        if record.revoked:
            raise AuthError("revoked")
        if record.expires_unix_ms is not None and record.expires_unix_ms <= _now_ms():
            raise AuthError("expired")
        return record.principal

    def is_admin(self, presented: str | None) -> bool:
        return is_admin_key(presented, self.admin_key)

    async def caller(self, presented: str | None) -> Caller:
        if self.is_admin(presented):
            return Caller(admin=True)
        if not presented:
            raise GatewayError(401, "Missing API key. Send it as 'Authorization: Bearer <key>'.",
                               code="missing_api_key")
        try:
            principal = await self.authenticate(presented)
        except AuthError as refused:
            log.info("key refused", extra={"fields": {"reason": str(refused)}})
            raise GatewayError(401, "Invalid API key. Check the key, or create a new one.",
                               code="invalid_api_key") from None
        return Caller(admin=False, project_id=principal.project_id, team_id=principal.team_id)

    def require_admin(self, presented: str | None) -> None:
        if not self.is_admin(presented):
            raise GatewayError(401, "This needs the admin key (NEXTMODEL_ADMIN_KEY) as the bearer token.",
                               code="admin_key_required")

    # -- accounts ---------------------------------------------------------------------

    async def create_team(self, name: str, cache_shared: bool = False) -> TeamRow:
        team = TeamRow(id=f"team_{ULID()}", name=_name(name, "name"), created_unix_ms=_now_ms(),
                       cache_shared=cache_shared)
        await self.store.create_team(team)
        return team

    async def create_project(self, team_id: str, name: str, cache: CacheSettings | None) -> ProjectRow:
        if await self.store.get_team(team_id) is None:
            raise _not_found("team", team_id, "team_id")
        project = ProjectRow(id=f"proj_{ULID()}", team_id=team_id, name=_name(name, "name"),
                             created_unix_ms=_now_ms(), cache=_cache_settings(cache or CacheSettings()))
        await self.store.create_project(project)
        return project

    async def update_project(self, project_id: str, name: str | None, cache: CacheSettings | None) -> ProjectRow:
        if await self.store.get_project(project_id) is None:
            raise _not_found("project", project_id, "project_id")
        updated = await self.store.update_project(
            project_id, name=_name(name, "name") if name is not None else None,
            cache=_cache_settings(cache) if cache is not None else None)
        if updated is None:  # deleted in between
            raise _not_found("project", project_id, "project_id")
        return updated

    async def create_key(self, project_id: str, name: str, *, expires_unix_ms: int = 0,
                         allowed_models: tuple[str, ...] = (), default_policy: str = "",
                         tags: dict[str, str] | None = None, requests_per_minute: int = 0,
                         tokens_per_minute: int = 0) -> tuple[KeyRow, str]:
        """A new key; the secret is returned here once and only its hash is stored."""
        if await self.store.get_project(project_id) is None:
            raise _not_found("project", project_id, "project_id")
        changes = _key_changes(expires_unix_ms=expires_unix_ms or None, requests_per_minute=requests_per_minute,
                               tokens_per_minute=tokens_per_minute, tags=tags or {})
        secret = keys.generate_key()
        row = KeyRow(id=f"key_{ULID()}", project_id=project_id, prefix=keys.visible_prefix(secret),
                     name=_name(name, "name"), created_unix_ms=_now_ms(), expires_unix_ms=expires_unix_ms or None,
                     allowed_models=tuple(allowed_models), default_policy=default_policy,
                     tags=changes["tags"], requests_per_minute=requests_per_minute,
                     tokens_per_minute=tokens_per_minute)
        await self.store.add_key(row, keys.hash_key(secret))
        return row, secret

    async def update_key(self, key_id: str, changes: dict) -> KeyRow:
        updated = await self.store.update_key(key_id, _key_changes(**changes))
        if updated is None:
            raise _not_found("key", key_id, "key_id")
        return updated

    async def revoke_key(self, key_id: str) -> KeyRow:
        return await self.update_key(key_id, {"revoked_unix_ms": _now_ms()})

    async def bootstrap_dev(self, dev_key: str | None) -> str | None:
        """Create the default team, project and a development key.

        With `dev_key` that key is made sure to exist. Without it a key is generated
        only when the default project has none yet. Returns the development key when
        it is known (to print it), None when an earlier generated one exists.
        """
        now = _now_ms()
        await self.store.create_team(TeamRow(DEFAULT_TEAM_ID, "Default team", now))
        await self.store.create_project(ProjectRow(DEFAULT_PROJECT_ID, DEFAULT_TEAM_ID, "Default project", now))
        if dev_key is None and await self.store.count_keys(DEFAULT_PROJECT_ID) > 0:
            return None
        key = dev_key or keys.generate_key()
        key_hash = keys.hash_key(key)
        await self.store.add_key(KeyRow(id="key_" + key_hash[:16], project_id=DEFAULT_PROJECT_ID,
                                        prefix=keys.visible_prefix(key), name="development key",
                                        created_unix_ms=now), key_hash)
        return key

    # -- budgets ------------------------------------------------------------------------

    async def set_budget(self, scope: str, scope_id: str, period: str, limit_nano_usd: int, hard: bool) -> BudgetRow:
        if scope not in SCOPES:
            raise GatewayError(400, f"'scope' must be one of {', '.join(SCOPES)}.", param="scope",
                               code="invalid_value")
        if period not in PERIODS:
            raise GatewayError(400, f"'period' must be one of {', '.join(PERIODS)}.", param="period",
                               code="invalid_value")
        if limit_nano_usd <= 0:
            raise GatewayError(400, "'limit_usd' must be greater than zero.", param="limit_usd", code="invalid_value")
        lookup = {"team": self.store.get_team, "project": self.store.get_project}.get(scope)
        if lookup and await lookup(scope_id) is None or scope == "key" and not await self._key_exists(scope_id):
            raise _not_found(scope, scope_id, "scope_id")
        return await self.store.set_budget(
            BudgetRow(id=f"bud_{ULID()}", scope=scope, scope_id=scope_id, period=period,
                      limit_nano_usd=limit_nano_usd, hard=hard), now_ms=_now_ms())

    async def _key_exists(self, key_id: str) -> bool:
        return await self.store.update_key(key_id, {}) is not None

    async def reserve(self, *, request_id: str, key_id: str, project_id: str, team_id: str,
                      amount_nano_usd: int) -> ReservationResult | None:
        """Hold the worst case against every budget that applies; refuse (429) past a hard limit."""
        now = _now_ms()
        try:
            return await self.store.reserve(request_id=request_id, key_id=key_id, project_id=project_id,
                                            team_id=team_id, amount_nano_usd=max(amount_nano_usd, 0), now_ms=now,
                                            ttl_ms=self.reservation_ttl_ms)
        except BudgetExceeded as exceeded:
            budget = exceeded.budget
            resets = resets_at_ms(budget.period, now)
            raise GatewayError(
                429,
                f"The {budget.period} {budget.scope} budget of ${money.usd(budget.limit_nano_usd)} cannot cover this "
                f"request (${money.usd(max(exceeded.available_nano_usd, 0))} left, this request may cost up to "
                f"${money.usd(amount_nano_usd)}). "
                + ("It resets at the start of the next period." if resets else "Raise the budget to continue."),
                code="budget_exceeded", type="insufficient_quota",
                retry_after_seconds=max(1, (resets - now + 999) // 1000) if resets else 0,
            ) from None

    async def release(self, reservation_id: str, request_id: str) -> bool:
        return await self.store.release(reservation_id=reservation_id, request_id=request_id)

    async def expire_reservations(self) -> int:
        return await self.store.expire_reservations(now_ms=_now_ms())

    # -- ledger -------------------------------------------------------------------------

    async def settle(self, usage: Usage, payload: bytes = b"") -> Receipt | DeadLetter:
        return (await self.settle_batch([usage], [payload]))[0]

    async def settle_batch(self, batch: list[Usage], payloads: list[bytes] | None = None) -> list[Receipt | DeadLetter]:
        """Price and record usage, and release its reservations, atomically.

        Idempotent: a request id settled before keeps its first receipt, and is not counted again.
        A settlement that can never be stored (settlement.py) is answered with its dead letter
        instead, and the others settle; a transient storage fault fails the whole batch.
        """
        answers = settlement.receipts_or_refusals(batch, payloads or [b""] * len(batch), self.receipt_secret)
        stored = [a for a in answers if isinstance(a, Receipt)]
        if stored:
            reservation_of = {usage.request_id: usage.reservation_id for usage in batch}
            try:
                kept = await self.store.record(stored, [reservation_of[r.request_id] for r in stored])
            except Exception as failure:
                if not settlement.is_permanent(failure):
                    raise
                kept = await self._record_one_by_one(answers, batch, payloads)
            by_request = {receipt.request_id: receipt for receipt in kept}
            answers = [by_request.get(a.request_id, a) if isinstance(a, Receipt) else a for a in answers]
        return [await self._dead_letter(a) if isinstance(a, settlement.Refused) else a for a in answers]

    async def _record_one_by_one(self, answers, batch: list[Usage], payloads: list[bytes] | None) -> list[Receipt]:
        """The database refused the batch: find the settlement it refuses by storing each alone."""
        kept: list[Receipt] = []
        for index, answer in enumerate(answers):
            if not isinstance(answer, Receipt):
                continue
            try:
                kept += await self.store.record([answer], [batch[index].reservation_id])
            except Exception as refused:
                if not settlement.is_permanent(refused):
                    raise
                answers[index] = settlement.Refused(batch[index], (payloads or [b""] * len(batch))[index],
                                                    settlement.storage_reason(refused), answer.charged_cost_nano_usd)
        return kept

    async def _dead_letter(self, refused: settlement.Refused) -> DeadLetter:
        letter = await self.store.dead_letter(settlement.dead_letter_of(refused, _now_ms()))
        _dead_letters.add(1, {"reason": refused.reason.partition(":")[0]})
        log.error("settlement refused; kept as a dead letter, its charge counted", extra={"fields": {
            "dead_letter_id": letter.id, "reason": letter.reason, "charged_nano_usd": letter.charged_cost_nano_usd,
            "charge_basis": letter.charge_basis}})
        return letter

    async def dead_letters(self, *, limit: int = 100, after_id: str = "") -> tuple[list[DeadLetter], int]:
        return (await self.store.list_dead_letters(limit=max(1, min(limit, 1000)), after_id=after_id),
                await self.store.count_dead_letters())

    async def receipt(self, receipt_id: str, project_id: str | None) -> Receipt | None:
        """A receipt, only if it belongs to `project_id` (None: an admin caller).

        Routers settle moments after they answer, so a receipt id minted in the last few
        seconds that is not stored yet is waited for briefly instead of being called missing.
        """
        receipt = await self.store.get_receipt(receipt_id)
        deadline = time.monotonic() + RECENT_RECEIPT_WAIT_SECONDS
        while receipt is None and _minted_recently(receipt_id) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            receipt = await self.store.get_receipt(receipt_id)
        if receipt is None or (project_id is not None and receipt.project_id != project_id):
            return None
        return receipt

    async def receipts(self, project_id: str, *, limit: int = 100, after_id: str = "") -> list[Receipt]:
        return await self.store.list_receipts(project_id, limit=max(1, min(limit, 1000)), after_id=after_id)

    @staticmethod
    def scoped(caller: Caller, where: UsageFilter) -> UsageFilter:
        """A project key sees its own project only, whatever it asked for."""
        if caller.admin:
            return where
        if where.project_id and where.project_id != caller.project_id:
            raise GatewayError(404, f"No project {where.project_id!r}.", param="project_id",
                               code="project_not_found")
        return replace(where, project_id=caller.project_id)

    async def usage(self, caller: Caller, group_by: str, where: UsageFilter) -> tuple[list[UsageTotals], UsageTotals]:
        if group_by not in GROUPS and not (group_by.startswith("tag:") and len(group_by) > 4):
            raise GatewayError(400, "'group_by' must be one of key, project, team, model, provider, served_mode, "
                                    "day or tag:<name>.", param="group_by", code="invalid_value")
        where = self.scoped(caller, where)
        groups = await self.store.usage(group_by, where)
        total = (await self.store.usage("", where)) or [UsageTotals("all")]
        return groups, total[0]

    async def export(self, caller: Caller, where: UsageFilter, fmt: str, batch: int) -> AsyncIterator[bytes]:
        if fmt not in ("csv", "jsonl"):
            raise GatewayError(400, "'format' must be csv or jsonl.", param="format", code="invalid_value")
        where = self.scoped(caller, where)
        return self._export(where, fmt, batch)

    async def _export(self, where: UsageFilter, fmt: str, batch: int) -> AsyncIterator[bytes]:
        if fmt == "csv":
            yield (",".join(EXPORT_COLUMNS) + "\r\n").encode()
        async for rows in self.store.export(where, batch):
            if fmt == "jsonl":
                yield b"".join(orjson.dumps(_export_json(row)) + b"\n" for row in rows)
            else:
                buffer = io.StringIO()
                writer = csv.writer(buffer)
                for row in rows:
                    writer.writerow(_export_csv(row))
                yield buffer.getvalue().encode()

    # -- provider keys (bring your own key) --------------------------------------------------

    def _box(self) -> SecretBox:
        if self.box is None:
            raise GatewayError(503, "Provider keys need NEXTMODEL_SECRET_KEY to be set.", code="secret_key_missing")
        return self.box

    async def set_provider_key(self, project_id: str, provider: str, api_key: str) -> int:
        if not _PROVIDER_ID.match(provider or ""):
            raise GatewayError(400, "'provider' must be a provider id such as openai or deepseek.",
                               param="provider", code="invalid_value")
        if not api_key or len(api_key) > 1024 or not api_key.isprintable():
            raise GatewayError(400, "'api_key' must be the provider's key (1 to 1024 printable characters).",
                               param="api_key", code="invalid_value")
        if await self.store.get_project(project_id) is None:
            raise _not_found("project", project_id, "project_id")
        now = _now_ms()
        await self.store.set_provider_key(project_id, provider,
                                          self._box().seal(api_key, project_id=project_id, provider=provider),
                                          now_ms=now)
        return now

    async def provider_key(self, project_id: str, provider: str) -> str | None:
        sealed = await self.store.get_provider_key(project_id, provider)
        return self._box().open(sealed, project_id=project_id, provider=provider) if sealed else None


def _cache_settings(cache: CacheSettings) -> CacheSettings:
    if not 0 <= cache.discount_bps <= 10_000:
        raise GatewayError(400, "'cache.discount_bps' must be between 0 and 10000.", param="cache.discount_bps",
                           code="invalid_value")
    if not 0 < cache.ttl_seconds <= 30 * 86_400:
        raise GatewayError(400, "'cache.ttl_seconds' must be between 1 and 2592000.", param="cache.ttl_seconds",
                           code="invalid_value")
    return cache


def _key_changes(**changes) -> dict:
    for field in ("requests_per_minute", "tokens_per_minute"):
        if changes.get(field) is not None and changes[field] < 0:
            raise GatewayError(400, f"'{field}' must be zero (no limit) or more.", param=field, code="invalid_value")
    expires = changes.get("expires_unix_ms")
    if expires is not None and expires and expires <= _now_ms():
        raise GatewayError(400, "'expires_at' must be in the future.", param="expires_at", code="invalid_value")
    tags = changes.get("tags")
    if tags is not None:
        for name, value in tags.items():
            if not name or len(name) > 64 or len(str(value)) > 256:
                raise GatewayError(400, "Tag names must be 1 to 64 characters and values at most 256.",
                                   param="tags", code="invalid_value")
    return {name: value for name, value in changes.items() if value is not None or name == "expires_unix_ms"}


def _export_json(row) -> dict:
    data = {name: row[name] for name in (
        "id", "request_id", "created_unix_ms", "key_id", "project_id", "team_id", "requested_model", "served_model",
        "provider", "served_mode", "usage_source", "prompt_tokens", "completion_tokens", "cached_prompt_tokens",
        "list_cost_nano_usd", "discount_nano_usd", "charged_cost_nano_usd", "latency_ms", "status",
        "replayed_receipt_id", "credential_source", "route_reason", "signature")}
    data["price"] = {"version": row["price_version"], "input_per_mtok_usd": row["input_per_mtok_usd"],
                     "cached_input_per_mtok_usd": row["cached_input_per_mtok_usd"],
                     "output_per_mtok_usd": row["output_per_mtok_usd"]}
    data["tags"] = orjson.loads(row["tags"])
    data["attempts"] = orjson.loads(row["attempts"])
    data["charged_cost_usd"] = money.usd(row["charged_cost_nano_usd"])
    return data


def _export_csv(row) -> list:
    values = []
    for column in EXPORT_COLUMNS:
        if column == "created_at":
            values.append(time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(row["created_unix_ms"] / 1000))
                          + f".{row['created_unix_ms'] % 1000:03d}Z")
        elif column == "charged_cost_usd":
            values.append(money.usd(row["charged_cost_nano_usd"]))
        elif column == "price_version":
            values.append(row["price_version"])
        else:
            values.append(row[column])
    return values

