"""The catalog store, through SQLAlchemy Core so the same code runs on SQLite and PostgreSQL.

The tables are declared in store/schema.py; Alembic migrations (store/migrate.py) make them.
"""

from __future__ import annotations

from dataclasses import asdict

import orjson
from sqlalchemy import select

from nextmodel_catalog.domain import Capabilities, Catalog, Model, Policy, Price, Provider
from nextmodel_catalog.store.schema import meta, models, policies, prices, providers
from nextmodel_common.db import make_engine


class SqlCatalogStore:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)

    async def open(self) -> None:
        from nextmodel_catalog.store.migrate import upgrade

        await upgrade(self.engine)

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
                known = (model.id, model.price.version) in known_prices
                await self._put_price(conn, model.id, model.price, now_ms, known)
            seeded = {m.id for m in catalog.models}
            for stale in set(known_models) - seeded:
                await conn.execute(models.delete().where(models.c.id == stale))
            for policy in catalog.policies:
                await self._put_policy(conn, policy)

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

    @staticmethod
    async def _put_price(conn, model_id: str, price: Price, now_ms: int, known: bool) -> None:
        """Record a price as the one in force; a version seen before is brought back, not duplicated."""
        if known:
            latest = (await conn.execute(select(prices.c.version).where(prices.c.model_id == model_id)
                                         .order_by(prices.c.recorded_unix_ms.desc()).limit(1))).scalar()
            if latest != price.version:
                await conn.execute(prices.update().where(prices.c.model_id == model_id,
                                                         prices.c.version == price.version)
                                   .values(recorded_unix_ms=now_ms))
            return
        await conn.execute(prices.insert().values(model_id=model_id, version=price.version,
                                                  definition=_dump(asdict(price)), recorded_unix_ms=now_ms))

    @staticmethod
    async def _put_policy(conn, policy: Policy) -> None:
        changed = await conn.execute(policies.update().where(policies.c.name == policy.name)
                                     .values(definition=_dump(policy.spec)))
        if not changed.rowcount:
            await conn.execute(policies.insert().values(name=policy.name, definition=_dump(policy.spec)))

    async def set_price(self, model_id: str, price: Price, *, now_ms: int) -> bool:
        async with self.engine.begin() as conn:
            if (await conn.execute(select(models.c.id).where(models.c.id == model_id))).first() is None:
                return False
            known = (await conn.execute(select(prices.c.version).where(
                prices.c.model_id == model_id, prices.c.version == price.version))).first() is not None
            await self._put_price(conn, model_id, price, now_ms, known)
        return True

    async def put_policy(self, policy: Policy) -> None:
        async with self.engine.begin() as conn:
            await self._put_policy(conn, policy)

    async def delete_policy(self, name: str) -> bool:
        async with self.engine.begin() as conn:
            return (await conn.execute(policies.delete().where(policies.c.name == name))).rowcount > 0

    async def seed_hash(self) -> str:
        async with self.engine.connect() as conn:
            return (await conn.execute(select(meta.c.value).where(meta.c.key == "seed_hash"))).scalar() or ""

    async def set_seed_hash(self, value: str) -> None:
        async with self.engine.begin() as conn:
            if not (await conn.execute(meta.update().where(meta.c.key == "seed_hash").values(value=value))).rowcount:
                await conn.execute(meta.insert().values(key="seed_hash", value=value))

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
