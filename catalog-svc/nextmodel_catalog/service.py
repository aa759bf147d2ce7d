"""The catalog as the rest of the system sees it: load the seed, keep the catalog in force in memory."""

from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path

from nextmodel_catalog.domain import Catalog, Policy, Price, SeedError, load_seed, parse_policy
from nextmodel_catalog.store import CatalogStore
from nextmodel_common import money
from nextmodel_common.errors import GatewayError

log = logging.getLogger(__name__)


class CatalogService:
    def __init__(self, store: CatalogStore) -> None:
        self.store = store
        self._catalog: Catalog | None = None

    async def start(self, seed_path: Path) -> None:
        """Apply the seed when it changed since it was applied last, so operators' changes made
        through the admin API survive restarts until the seed file itself changes."""
        await self.store.open()
        text = seed_path.read_bytes()
        seed = load_seed(seed_path)
        digest = hashlib.sha256(text).hexdigest()
        if await self.store.seed_hash() != digest:
            await self.store.apply(seed, now_ms=int(time.time() * 1000))
            await self.store.set_seed_hash(digest)
        await self.reload()
        log.info(
            "catalog loaded",
            extra={"fields": {"models": len(self.catalog.models), "providers": len(self.catalog.providers),
                              "version": self.catalog.version}},
        )

    async def reload(self) -> None:
        self._catalog = await self.store.load()

    async def set_price(self, model_id: str, *, input: str, cached_input: str | None, output: str, source: str,
                        effective_date: str) -> Price:
        try:
            price = Price(input=str(money.price(input)), output=str(money.price(output)),
                          cached_input=str(money.price(cached_input)) if cached_input else None,
                          effective_date=effective_date or time.strftime("%Y-%m-%d", time.gmtime()),
                          source=source)
        except (ValueError, TypeError, ArithmeticError):
            raise GatewayError(400, "Prices must be non-negative decimal strings (USD per 1M tokens).",
                               param="price", code="invalid_value") from None
        if not price.source:
            raise GatewayError(400, "'source' is required: where the price comes from.", param="source",
                               code="invalid_value")
        if not await self.store.set_price(model_id, price, now_ms=int(time.time() * 1000)):
            raise GatewayError(404, f"No model {model_id!r} in the catalog.", param="model_id", code="model_not_found")
        await self.reload()
        return price

    async def put_policy(self, spec: dict) -> Policy:
        try:
            policy = parse_policy(spec)
        except SeedError as bad:
            raise GatewayError(400, f"Invalid policy: {bad}", param="policy", code="invalid_value") from None
        known = {m.id for m in self.catalog.models} | {a for m in self.catalog.models for a in m.aliases}
        unknown = [name for name in policy.spec.get("candidates", ()) if name not in known]
        if unknown:
            raise GatewayError(400, f"Invalid policy: unknown models {', '.join(unknown)}.", param="candidates",
                               code="invalid_value")
        await self.store.put_policy(policy)
        await self.reload()
        return policy

    async def delete_policy(self, name: str) -> bool:
        deleted = await self.store.delete_policy(name)
        await self.reload()
        return deleted

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            raise RuntimeError("catalog not started")
        return self._catalog
