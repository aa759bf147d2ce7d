from __future__ import annotations

from typing import Protocol

from nextmodel_catalog.domain import Catalog, Policy, Price


class CatalogStore(Protocol):
    async def open(self) -> None:
        """Upgrade the schema to the code's (Alembic migrations) and get ready."""

    async def apply(self, catalog: Catalog, *, now_ms: int) -> None:
        """Upsert providers, models and policies; add a price version when a price changed."""

    async def load(self) -> Catalog:
        """The catalog in force: every model with its newest price version."""

    async def price_history(self, model_id: str) -> list[tuple[str, dict]]:
        """(version, price fields) of every price a model ever had, oldest first."""

    async def set_price(self, model_id: str, price: Price, *, now_ms: int) -> bool:
        """Make `price` the model's price in force (a new version, or a former one again)."""

    async def put_policy(self, policy: Policy) -> None: ...

    async def delete_policy(self, name: str) -> bool: ...

    async def seed_hash(self) -> str:
        """The hash of the seed applied last ('' when none)."""

    async def set_seed_hash(self, value: str) -> None: ...

    async def close(self) -> None: ...
