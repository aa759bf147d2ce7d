"""Billing storage through SQLAlchemy Core: the same code on SQLite (embedded) and PostgreSQL.

SQLite serializes writers per database file, so on SQLite every write transaction of this
process also goes through one asyncio lock (one billing process per SQLite file). On
PostgreSQL, concurrency control is the database's: budget counters change only through
conditional UPDATEs, which lock the row they change.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import asdict

import orjson
from sqlalchemy import and_, exists, func, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement, FromClause

from nextmodel_billing.budgets import period_key
from nextmodel_billing.domain import CacheSettings, PriceApplied, Principal, Receipt
from nextmodel_billing.store.base import (
    KeyRecord,
    KeyRow,
    ProjectRow,
    TeamRow,
    UsageFilter,
    UsageTotals,
)
from nextmodel_billing.store.budget_store import BudgetStore
from nextmodel_billing.store.counters import MissingCounter as _MissingCounter
from nextmodel_billing.store.counters import applies as _applies
from nextmodel_billing.store.dead_letters import DeadLetterStore
from nextmodel_billing.store.schema import (
    api_keys,
    budget_counters,
    budgets,
    projects,
    provider_keys,
    receipt_tags,
    receipts,
    teams,
)
from nextmodel_common.db import make_engine
from nextmodel_common.settings import sqlite_path


def _dumps(value) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _receipt_row(receipt: Receipt) -> dict:
    row = receipt.plain()
    price = row.pop("price")
    row.update(
        price_version=price["version"],
        input_per_mtok_usd=price["input_per_mtok_usd"],
        cached_input_per_mtok_usd=price["cached_input_per_mtok_usd"],
        output_per_mtok_usd=price["output_per_mtok_usd"],
        tags=_dumps(row["tags"]),
        attempts=_dumps([dict(a) for a in receipt.attempts]),
    )
    return row


def receipt_from_row(mapping) -> Receipt:
    data = dict(mapping)
    price = PriceApplied(
        version=data.pop("price_version"),
        input_per_mtok_usd=data.pop("input_per_mtok_usd"),
        cached_input_per_mtok_usd=data.pop("cached_input_per_mtok_usd"),
        output_per_mtok_usd=data.pop("output_per_mtok_usd"),
    )
    data["tags"] = orjson.loads(data["tags"])
    data["attempts"] = tuple(orjson.loads(data["attempts"]))
    return Receipt(price=price, **data)


def _project(row) -> ProjectRow:
    return ProjectRow(
        id=row.id, team_id=row.team_id, name=row.name, created_unix_ms=row.created_unix_ms,
        cache=CacheSettings(enabled=row.cache_enabled, ttl_seconds=row.cache_ttl_seconds,
                            discount_bps=row.cache_discount_bps, cache_sampled=row.cache_sampled),
    )


def _key(row) -> KeyRow:
    return KeyRow(
        id=row.id, project_id=row.project_id, prefix=row.prefix, name=row.name,
        created_unix_ms=row.created_unix_ms, expires_unix_ms=row.expires_unix_ms,
        revoked_unix_ms=row.revoked_unix_ms, allowed_models=tuple(orjson.loads(row.allowed_models)),
        default_policy=row.default_policy, tags=orjson.loads(row.tags),
        requests_per_minute=row.requests_per_minute, tokens_per_minute=row.tokens_per_minute,
    )


class SqlBillingStore(BudgetStore, DeadLetterStore):
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sqlite = bool(sqlite_path(url)) or url.startswith("sqlite")
        self._write_lock = asyncio.Lock()

    async def open(self) -> None:
        from nextmodel_billing.store.migrate import upgrade

        await upgrade(self.engine)

    async def close(self) -> None:
        await self.engine.dispose()

    @contextlib.asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        if self._sqlite:
            async with self._write_lock, self.engine.begin() as conn:
                yield conn
        else:
            async with self.engine.begin() as conn:
                yield conn

    async def _insert(self, table, row: dict) -> bool:
        try:
            async with self._write() as conn:
                await conn.execute(table.insert().values(**row))
            return True
        except IntegrityError:
            return False

    # -- accounts ---------------------------------------------------------------------

    async def find_key(self, key_hash: str, *, now_ms: int) -> KeyRecord | None:
        query = (
            select(api_keys, projects.c.team_id, projects.c.cache_enabled, projects.c.cache_ttl_seconds,
                   projects.c.cache_discount_bps, projects.c.cache_sampled, teams.c.cache_shared)
            .join(projects, projects.c.id == api_keys.c.project_id)
            .join(teams, teams.c.id == projects.c.team_id)
            .where(api_keys.c.key_hash == key_hash)
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
            if row is None:
                return None
            scopes = or_(and_(budgets.c.scope == "key", budgets.c.scope_id == row.id),
                         and_(budgets.c.scope == "project", budgets.c.scope_id == row.project_id),
                         and_(budgets.c.scope == "team", budgets.c.scope_id == row.team_id))
            remaining_bps = None
            for budget in (await conn.execute(select(budgets).where(scopes))).all():
                counter = (await conn.execute(select(budget_counters).where(
                    budget_counters.c.budget_id == budget.id,
                    budget_counters.c.period_key == period_key(budget.period, now_ms)))).first()
                used = (counter.spent_nano_usd + counter.reserved_nano_usd) if counter else 0
                left = max(0, min(10_000, (budget.limit_nano_usd - used) * 10_000 // budget.limit_nano_usd))
                remaining_bps = left if remaining_bps is None else min(remaining_bps, left)
            has_budget = remaining_bps is not None
            own = (await conn.execute(select(provider_keys.c.provider)
                                      .where(provider_keys.c.project_id == row.project_id))).scalars().all()
        principal = Principal(
            key_id=row.id, key_prefix=row.prefix, project_id=row.project_id, team_id=row.team_id,
            allowed_models=tuple(orjson.loads(row.allowed_models)), default_policy=row.default_policy,
            tags=orjson.loads(row.tags), requests_per_minute=row.requests_per_minute,
            tokens_per_minute=row.tokens_per_minute,
            cache=CacheSettings(enabled=row.cache_enabled, ttl_seconds=row.cache_ttl_seconds,
                                discount_bps=row.cache_discount_bps, cache_sampled=row.cache_sampled),
            cache_shared_in_team=row.cache_shared, has_budget=has_budget, own_key_providers=tuple(sorted(own)),
            budget_remaining_bps=remaining_bps, expires_unix_ms=row.expires_unix_ms,
        )
        return KeyRecord(principal=principal, revoked=row.revoked_unix_ms is not None,
                         expires_unix_ms=row.expires_unix_ms)

    async def create_team(self, team: TeamRow) -> bool:
        return await self._insert(teams, asdict(team))

    async def list_teams(self) -> list[TeamRow]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(teams).order_by(teams.c.created_unix_ms, teams.c.id))
            return [TeamRow(**row._mapping) for row in rows]

    async def get_team(self, team_id: str) -> TeamRow | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(teams).where(teams.c.id == team_id))).first()
        return TeamRow(**row._mapping) if row else None

    async def create_project(self, project: ProjectRow) -> bool:
        cache = project.cache
        return await self._insert(projects, {
            "id": project.id, "team_id": project.team_id, "name": project.name,
            "created_unix_ms": project.created_unix_ms, "cache_enabled": cache.enabled,
            "cache_ttl_seconds": cache.ttl_seconds, "cache_discount_bps": cache.discount_bps,
            "cache_sampled": cache.cache_sampled,
        })

    async def update_project(self, project_id: str, *, name: str | None,
                             cache: CacheSettings | None) -> ProjectRow | None:
        values: dict = {}
        if name is not None:
            values["name"] = name
        if cache is not None:
            values.update(cache_enabled=cache.enabled, cache_ttl_seconds=cache.ttl_seconds,
                          cache_discount_bps=cache.discount_bps, cache_sampled=cache.cache_sampled)
        if values:
            async with self._write() as conn:
                await conn.execute(projects.update().where(projects.c.id == project_id).values(**values))
        return await self.get_project(project_id)

    async def list_projects(self, team_id: str = "") -> list[ProjectRow]:
        query = select(projects).order_by(projects.c.created_unix_ms, projects.c.id)
        if team_id:
            query = query.where(projects.c.team_id == team_id)
        async with self.engine.connect() as conn:
            return [_project(row) for row in await conn.execute(query)]

    async def get_project(self, project_id: str) -> ProjectRow | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(projects).where(projects.c.id == project_id))).first()
        return _project(row) if row else None

    async def add_key(self, key: KeyRow, key_hash: str) -> bool:
        row = asdict(key)
        row.update(key_hash=key_hash, allowed_models=_dumps(list(key.allowed_models)), tags=_dumps(key.tags))
        return await self._insert(api_keys, row)

    async def update_key(self, key_id: str, changes: dict) -> KeyRow | None:
        values = dict(changes)
        if "allowed_models" in values:
            values["allowed_models"] = _dumps(list(values["allowed_models"]))
        if "tags" in values:
            values["tags"] = _dumps(values["tags"])
        if values:
            async with self._write() as conn:
                await conn.execute(api_keys.update().where(api_keys.c.id == key_id).values(**values))
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(api_keys).where(api_keys.c.id == key_id))).first()
        return _key(row) if row else None

    async def list_keys(self, project_id: str) -> list[KeyRow]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(api_keys).where(api_keys.c.project_id == project_id)
                                      .order_by(api_keys.c.created_unix_ms, api_keys.c.id))
            return [_key(row) for row in rows]

    async def count_keys(self, project_id: str) -> int:
        async with self.engine.connect() as conn:
            return (await conn.execute(select(func.count()).select_from(api_keys)
                                       .where(api_keys.c.project_id == project_id))).scalar_one()

    # -- ledger ------------------------------------------------------------------------

    async def record(self, batch: list[Receipt], reservation_ids: list[str]) -> list[Receipt]:
        """Append receipts and their spend, release their reservations; all or nothing, idempotent."""
        if not batch:
            return []

        async def transaction() -> list[Receipt]:
            async with self._write() as conn:
                request_ids = [r.request_id for r in batch]
                stored = {row.request_id: receipt_from_row(row._mapping) for row in await conn.execute(
                    select(receipts).where(receipts.c.request_id.in_(request_ids)))}
                all_budgets = (await conn.execute(select(budgets))).all()
                spend: dict[tuple[str, str], int] = {}
                fresh: list[tuple[Receipt, str]] = []
                for receipt, reservation_id in zip(batch, reservation_ids, strict=True):
                    if receipt.request_id in stored:
                        continue
                    stored[receipt.request_id] = receipt
                    fresh.append((receipt, reservation_id))
                    for budget in all_budgets:
                        if _applies(budget, receipt.key_id, receipt.project_id, receipt.team_id):
                            row = (budget.id, period_key(budget.period, receipt.created_unix_ms))
                            spend[row] = spend.get(row, 0) + receipt.charged_cost_nano_usd
                if fresh:
                    await conn.execute(receipts.insert(), [_receipt_row(r) for r, _ in fresh])
                    tag_rows = [{"receipt_id": r.id, "name": name, "value": value}
                                for r, _ in fresh for name, value in r.tags.items()]
                    if tag_rows:
                        await conn.execute(receipt_tags.insert(), tag_rows)
                for (budget_id, key), amount in sorted(spend.items()):
                    changed = await conn.execute(budget_counters.update().where(
                        budget_counters.c.budget_id == budget_id, budget_counters.c.period_key == key,
                    ).values(spent_nano_usd=budget_counters.c.spent_nano_usd + amount))
                    if not changed.rowcount:
                        raise _MissingCounter(budget_id, key)
                for _, reservation_id in sorted(fresh, key=lambda item: item[1]):
                    if reservation_id:
                        await self._release_lines(conn, reservation_id, "settled")
            return [stored[r.request_id] for r in batch]

        return await self._retrying_missing_counters(transaction)

    async def get_receipt(self, receipt_id: str) -> Receipt | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(receipts).where(receipts.c.id == receipt_id))).first()
        return receipt_from_row(row._mapping) if row else None

    async def list_receipts(self, project_id: str, *, limit: int, after_id: str) -> list[Receipt]:
        query = select(receipts).where(receipts.c.project_id == project_id)
        if after_id:
            query = query.where(receipts.c.id > after_id)
        async with self.engine.connect() as conn:
            return [receipt_from_row(row._mapping)
                    for row in await conn.execute(query.order_by(receipts.c.id).limit(limit))]

    @staticmethod
    def _where(query, where: UsageFilter):
        for column, value in ((receipts.c.project_id, where.project_id), (receipts.c.team_id, where.team_id),
                              (receipts.c.key_id, where.key_id), (receipts.c.served_model, where.model),
                              (receipts.c.provider, where.provider), (receipts.c.served_mode, where.served_mode)):
            if value:
                query = query.where(column == value)
        if where.start_unix_ms:
            query = query.where(receipts.c.created_unix_ms >= where.start_unix_ms)
        if where.end_unix_ms:
            query = query.where(receipts.c.created_unix_ms < where.end_unix_ms)
        for name, value in where.tags.items():
            query = query.where(exists().where(receipt_tags.c.receipt_id == receipts.c.id,
                                               receipt_tags.c.name == name, receipt_tags.c.value == value))
        return query

    async def usage(self, group_by: str, where: UsageFilter) -> list[UsageTotals]:
        columns = {"key": receipts.c.key_id, "project": receipts.c.project_id, "team": receipts.c.team_id,
                   "model": receipts.c.served_model, "provider": receipts.c.provider,
                   "served_mode": receipts.c.served_mode, "day": receipts.c.created_unix_ms // 86_400_000,
                   "": literal("all")}
        source: FromClause = receipts
        group: ColumnElement
        if group_by.startswith("tag:"):
            tag = receipt_tags.alias("grouping_tag")
            source = receipts.outerjoin(tag, and_(tag.c.receipt_id == receipts.c.id, tag.c.name == group_by[4:]))
            group = func.coalesce(tag.c.value, "")
        else:
            group = columns[group_by]
        query = select(
            group.label("grp"), func.count().label("requests"),
            func.coalesce(func.sum(receipts.c.prompt_tokens), 0),
            func.coalesce(func.sum(receipts.c.completion_tokens), 0),
            func.coalesce(func.sum(receipts.c.cached_prompt_tokens), 0),
            func.coalesce(func.sum(receipts.c.list_cost_nano_usd), 0),
            func.coalesce(func.sum(receipts.c.discount_nano_usd), 0),
            func.coalesce(func.sum(receipts.c.charged_cost_nano_usd), 0),
        ).select_from(source)
        query = self._where(query, where).group_by(group).order_by(group)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [UsageTotals(str(row[0]), *(int(v) for v in row[1:])) for row in rows]

    async def export(self, where: UsageFilter, batch: int) -> AsyncIterator[Sequence[Mapping]]:
        query = self._where(select(receipts), where).order_by(receipts.c.created_unix_ms, receipts.c.id)
        async with self.engine.connect() as conn:
            result = await conn.stream(query.execution_options(yield_per=batch))
            async for rows in result.mappings().partitions(batch):
                yield rows

    # -- provider keys -----------------------------------------------------------------

    async def set_provider_key(self, project_id: str, provider: str, ciphertext: str, *, now_ms: int) -> None:
        async with self._write() as conn:
            changed = await conn.execute(provider_keys.update().where(
                provider_keys.c.project_id == project_id, provider_keys.c.provider == provider,
            ).values(ciphertext=ciphertext, updated_unix_ms=now_ms))
            if not changed.rowcount:
                await conn.execute(provider_keys.insert().values(
                    project_id=project_id, provider=provider, ciphertext=ciphertext, updated_unix_ms=now_ms))

    async def delete_provider_key(self, project_id: str, provider: str) -> bool:
        async with self._write() as conn:
            deleted = await conn.execute(provider_keys.delete().where(
                provider_keys.c.project_id == project_id, provider_keys.c.provider == provider))
        return deleted.rowcount > 0

    async def list_provider_keys(self, project_id: str) -> list[tuple[str, int]]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(provider_keys.c.provider, provider_keys.c.updated_unix_ms)
                                      .where(provider_keys.c.project_id == project_id)
                                      .order_by(provider_keys.c.provider))
            return [(row.provider, row.updated_unix_ms) for row in rows]

    async def get_provider_key(self, project_id: str, provider: str) -> str | None:
        async with self.engine.connect() as conn:
            return (await conn.execute(select(provider_keys.c.ciphertext).where(
                provider_keys.c.project_id == project_id, provider_keys.c.provider == provider))).scalar()

