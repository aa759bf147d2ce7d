"""Billing tables through SQLAlchemy Core: the same code on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import orjson
from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, MetaData, String, Table, Text, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from nextmodel_billing.domain import PriceApplied, Principal, Receipt
from nextmodel_billing.store.base import KeyRecord

metadata = MetaData()

teams = Table(
    "billing_teams",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_unix_ms", BigInteger, nullable=False),
)
projects = Table(
    "billing_projects",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("team_id", String(64), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("created_unix_ms", BigInteger, nullable=False),
)
api_keys = Table(
    "billing_api_keys",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("project_id", String(64), nullable=False, index=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("name", String(200), nullable=False),
    Column("created_unix_ms", BigInteger, nullable=False),
    Column("expires_unix_ms", BigInteger),
    Column("revoked", Boolean, nullable=False, default=False),
    Column("allowed_models", Text, nullable=False, default="[]"),
    Column("default_policy", String(128), nullable=False, default=""),
    Column("tags", Text, nullable=False, default="{}"),
)
receipts = Table(
    "billing_receipts",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("request_id", String(64), nullable=False, unique=True),
    Column("created_unix_ms", BigInteger, nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("project_id", String(64), nullable=False),
    Column("team_id", String(64), nullable=False),
    Column("requested_model", String(128), nullable=False),
    Column("served_model", String(128), nullable=False),
    Column("provider", String(64), nullable=False),
    Column("served_mode", String(16), nullable=False),
    Column("usage_source", String(16), nullable=False),
    Column("prompt_tokens", BigInteger, nullable=False),
    Column("completion_tokens", BigInteger, nullable=False),
    Column("cached_prompt_tokens", BigInteger, nullable=False),
    Column("price_version", String(64), nullable=False),
    Column("input_per_mtok_usd", String(32), nullable=False),
    Column("cached_input_per_mtok_usd", String(32), nullable=False),
    Column("output_per_mtok_usd", String(32), nullable=False),
    Column("list_cost_nano_usd", BigInteger, nullable=False),
    Column("discount_nano_usd", BigInteger, nullable=False),
    Column("charged_cost_nano_usd", BigInteger, nullable=False),
    Column("latency_ms", Integer, nullable=False),
    Column("status", String(32), nullable=False),
    Column("tags", Text, nullable=False),
    Column("replayed_receipt_id", String(40), nullable=False),
    Column("credential_source", String(16), nullable=False),
    Column("route_reason", Text, nullable=False),
    Column("signature", String(64), nullable=False),
    Index("ix_billing_receipts_project_created", "project_id", "created_unix_ms"),
)


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite") and ":///" in url:
        path = url.split(":///", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    return create_async_engine(url, pool_pre_ping=True)


def _receipt_row(receipt: Receipt) -> dict:
    row = asdict(receipt)
    price = row.pop("price")
    row.update(
        price_version=price["version"],
        input_per_mtok_usd=price["input_per_mtok_usd"],
        cached_input_per_mtok_usd=price["cached_input_per_mtok_usd"],
        output_per_mtok_usd=price["output_per_mtok_usd"],
        tags=orjson.dumps(row["tags"], option=orjson.OPT_SORT_KEYS).decode(),
    )
    return row


def _receipt(row) -> Receipt:
    data = dict(row._mapping)
    price = PriceApplied(
        version=data.pop("price_version"),
        input_per_mtok_usd=data.pop("input_per_mtok_usd"),
        cached_input_per_mtok_usd=data.pop("cached_input_per_mtok_usd"),
        output_per_mtok_usd=data.pop("output_per_mtok_usd"),
    )
    data["tags"] = orjson.loads(data["tags"])
    return Receipt(price=price, **data)


class SqlBillingStore:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)

    async def open(self) -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)

    async def close(self) -> None:
        await self.engine.dispose()

    async def find_key(self, key_hash: str) -> KeyRecord | None:
        query = (
            select(api_keys, projects.c.team_id)
            .join(projects, projects.c.id == api_keys.c.project_id)
            .where(api_keys.c.key_hash == key_hash)
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        principal = Principal(
            key_id=row.id,
            key_prefix=row.prefix,
            project_id=row.project_id,
            team_id=row.team_id,
            allowed_models=tuple(orjson.loads(row.allowed_models)),
            default_policy=row.default_policy,
            tags=orjson.loads(row.tags),
        )
        return KeyRecord(principal=principal, revoked=row.revoked, expires_unix_ms=row.expires_unix_ms)

    async def ensure_team(self, team_id: str, name: str, *, now_ms: int) -> None:
        await self._insert_ignoring_duplicate(teams, {"id": team_id, "name": name, "created_unix_ms": now_ms})

    async def ensure_project(self, project_id: str, team_id: str, name: str, *, now_ms: int) -> None:
        await self._insert_ignoring_duplicate(
            projects, {"id": project_id, "team_id": team_id, "name": name, "created_unix_ms": now_ms}
        )

    async def add_key(self, *, key_id: str, project_id: str, key_hash: str, prefix: str, name: str,
                      now_ms: int) -> bool:
        return await self._insert_ignoring_duplicate(
            api_keys,
            {
                "id": key_id, "project_id": project_id, "key_hash": key_hash, "prefix": prefix, "name": name,
                "created_unix_ms": now_ms, "revoked": False, "allowed_models": "[]", "default_policy": "",
                "tags": "{}",
            },
        )

    async def count_keys(self, project_id: str) -> int:
        async with self.engine.connect() as conn:
            return (
                await conn.execute(select(func.count()).select_from(api_keys).where(api_keys.c.project_id == project_id))
            ).scalar_one()

    async def record(self, receipt: Receipt) -> Receipt:
        if await self._insert_ignoring_duplicate(receipts, _receipt_row(receipt)):
            return receipt
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(receipts).where(receipts.c.request_id == receipt.request_id))).first()
        if row is None:  # a receipt id collision without a request id match cannot happen with ULIDs
            raise RuntimeError(f"receipt {receipt.id} conflicts with a stored receipt")
        return _receipt(row)

    async def get_receipt(self, receipt_id: str) -> Receipt | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(receipts).where(receipts.c.id == receipt_id))).first()
        return _receipt(row) if row else None

    async def list_receipts(self, project_id: str, *, limit: int, after_id: str) -> list[Receipt]:
        query = select(receipts).where(receipts.c.project_id == project_id)
        if after_id:
            query = query.where(receipts.c.id > after_id)
        query = query.order_by(receipts.c.id).limit(limit)
        async with self.engine.connect() as conn:
            return [_receipt(row) for row in await conn.execute(query)]

    async def _insert_ignoring_duplicate(self, table: Table, row: dict) -> bool:
        try:
            async with self.engine.begin() as conn:
                await conn.execute(table.insert().values(**row))
            return True
        except IntegrityError:
            return False
