"""The catalog tables, through SQLAlchemy Core so the same code runs on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import asdict

import orjson
from sqlalchemy import BigInteger, Column, MetaData, String, Table, Text, select

from nextmodel_catalog.domain import Capabilities, Catalog, Model, Policy, Price, Provider
from nextmodel_common.db import make_engine

metadata = MetaData()

providers = Table(
    "catalog_providers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("definition", Text, nullable=False),
)
models = Table(
    "catalog_models",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("definition", Text, nullable=False),
    Column("created", BigInteger, nullable=False),
)
prices = Table(
    "catalog_prices",
    metadata,
    Column("model_id", String(128), primary_key=True),
    Column("version", String(64), primary_key=True),
    Column("definition", Text, nullable=False),
    Column("recorded_unix_ms", BigInteger, nullable=False),
)
policies = Table(
    "catalog_policies",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("definition", Text, nullable=False),
)


class SqlCatalogStore:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)

    async def open(self) -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)

    async def apply(self, catalog: Catalog, *, now_ms: int) -> None:
        async with self.engine.begin() as conn:
            known_models = {row.id: row.created for row in await conn.execute(select(models.c.id, models.c.created))}
            known_prices = {
                (row.model_id, row.version) for row in await conn.execute(select(prices.c.model_id, prices.c.version))
            }
            await conn.execute(providers.delete())
            if catalog.providers:
                await conn.execute(
                    providers.insert(), [{"id": p.id, "definition": _dump(asdict(p))} for p in catalog.providers]
                )
            for model in catalog.models:
                definition = asdict(model)
                definition.pop("price")
                created = known_models.get(model.id) or now_ms // 1000
                row = {"id": model.id, "definition": _dump(definition), "created": created}
                if model.id in known_models:
                    await conn.execute(models.update().where(models.c.id == model.id).values(**row))
                else:
                    await conn.execute(models.insert().values(**row))
                if (model.id, model.price.version) not in known_prices:
                    await conn.execute(
                        prices.insert().values(
                            model_id=model.id,
                            version=model.price.version,
                            definition=_dump(asdict(model.price)),
                            recorded_unix_ms=now_ms,
                        )
                    )
            seeded = {m.id for m in catalog.models}
            for stale in set(known_models) - seeded:
                await conn.execute(models.delete().where(models.c.id == stale))
            await conn.execute(policies.delete())
            if catalog.policies:
                await conn.execute(
                    policies.insert(), [{"name": p.name, "definition": _dump(p.spec)} for p in catalog.policies]
                )

    async def load(self) -> Catalog:
        async with self.engine.connect() as conn:
            provider_rows = (await conn.execute(select(providers).order_by(providers.c.id))).all()
            model_rows = (await conn.execute(select(models).order_by(models.c.id))).all()
            # Newest recorded price per model is the one in force.
            price_rows = (await conn.execute(select(prices).order_by(prices.c.recorded_unix_ms))).all()
            policy_rows = (await conn.execute(select(policies).order_by(policies.c.name))).all()
        latest: dict[str, Price] = {}
        for row in price_rows:
            latest[row.model_id] = Price(**orjson.loads(row.definition))
        loaded_models = []
        for row in model_rows:
            definition = orjson.loads(row.definition)
            definition["capabilities"] = Capabilities(**definition["capabilities"])
            definition["aliases"] = tuple(definition["aliases"])
            definition["created"] = row.created
            loaded_models.append(Model(price=latest[row.id], **definition))
        return Catalog(
            providers=tuple(Provider(**orjson.loads(row.definition)) for row in provider_rows),
            models=tuple(loaded_models),
            policies=tuple(Policy(name=row.name, spec=orjson.loads(row.definition)) for row in policy_rows),
        )

    async def price_history(self, model_id: str) -> list[tuple[str, dict]]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(prices).where(prices.c.model_id == model_id).order_by(prices.c.recorded_unix_ms)
            )
            return [(row.version, orjson.loads(row.definition)) for row in rows]

    async def close(self) -> None:
        await self.engine.dispose()


def _dump(value: dict) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
