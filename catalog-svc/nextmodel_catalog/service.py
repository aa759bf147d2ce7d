"""The catalog as the rest of the system sees it: load the seed, keep the catalog in force in memory."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from nextmodel_catalog.domain import Catalog, load_seed
from nextmodel_catalog.store import CatalogStore

log = logging.getLogger(__name__)


class CatalogService:
    def __init__(self, store: CatalogStore) -> None:
        self.store = store
        self._catalog: Catalog | None = None

    async def start(self, seed_path: Path) -> None:
        await self.store.open()
        seed = load_seed(seed_path)
        await self.store.apply(seed, now_ms=int(time.time() * 1000))
        await self.reload()
        log.info(
            "catalog loaded",
            extra={"fields": {"models": len(self.catalog.models), "providers": len(self.catalog.providers),
                              "version": self.catalog.version}},
        )

    async def reload(self) -> None:
        self._catalog = await self.store.load()

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            raise RuntimeError("catalog not started")
        return self._catalog
