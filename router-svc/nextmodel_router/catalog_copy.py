"""The router's local copy of the catalog: loaded at start, refreshed in the background.

No request ever waits on catalog-svc; if it is down, the router keeps routing on the
copy it has. Every snapshot it installs is also written to a local file (beside the outbox,
on Kubernetes the same volume), and a router that starts reads that file first: a router
restarted while the catalog is down routes on the last catalog it saw. The live catalog
replaces it on the first refresh that succeeds (versions are content hashes, so an unchanged
catalog answers "not modified").
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import orjson

from nextmodel.catalog.v1 import catalog_pb2
from nextmodel_common import money
from nextmodel_common.tasks import cancel_and_wait
from nextmodel_router.clients import CatalogClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProviderInfo:
    id: str
    protocol: str
    env_prefix: str
    default_base_url: str
    quirks: dict


@dataclass(frozen=True)
class ModelRoute:
    """What the router needs to send a request for one catalog model, parsed once per snapshot."""

    id: str
    provider: ProviderInfo
    upstream_id: str
    price_version: str
    input_per_mtok: Decimal
    cached_input_per_mtok: Decimal | None
    output_per_mtok: Decimal
    max_output_tokens: int
    proto: catalog_pb2.Model


@dataclass(frozen=True)
class Policy:
    """A named route: candidates in order; later ones are the fallback chain."""

    name: str
    candidates: tuple[ModelRoute, ...]
    spec: dict


class CatalogView:
    """One immutable snapshot, indexed for lookups by id and alias."""

    def __init__(self, snapshot: catalog_pb2.CatalogSnapshot) -> None:
        self.version = snapshot.version
        providers = {
            p.id: ProviderInfo(p.id, p.protocol, p.env_prefix, p.default_base_url,
                               orjson.loads(p.quirks_json) if p.quirks_json else {})
            for p in snapshot.providers
        }
        self.models: dict[str, ModelRoute] = {}
        self.by_name: dict[str, ModelRoute] = {}
        for m in snapshot.models:
            route = ModelRoute(
                id=m.id,
                provider=providers[m.provider],
                upstream_id=m.upstream_id or m.id,
                price_version=m.price.version,
                input_per_mtok=money.price(m.price.input_per_mtok_usd),
                cached_input_per_mtok=(
                    money.price(m.price.cached_input_per_mtok_usd) if m.price.cached_input_per_mtok_usd else None
                ),
                output_per_mtok=money.price(m.price.output_per_mtok_usd),
                max_output_tokens=m.max_output_tokens,
                proto=m,
            )
            self.models[m.id] = route
            self.by_name[m.id] = route
            for alias in m.aliases:
                self.by_name[alias] = route
        self.policies: dict[str, Policy] = {}
        for p in snapshot.policies:
            spec = orjson.loads(p.spec_json) if p.spec_json else {}
            candidates = []
            for name in spec.get("candidates", ()):
                if name in self.by_name:
                    candidates.append(self.by_name[name])
                else:
                    log.warning("policy names an unknown model", extra={"fields": {"policy": p.name, "model": name}})
            self.policies[p.name] = Policy(p.name, tuple(candidates), spec)

    def resolve(self, name: str) -> ModelRoute | None:
        return self.by_name.get(name)


class CatalogCopy:
    def __init__(self, client: CatalogClient, refresh_seconds: float, snapshot_path: Path | None = None) -> None:
        self.client = client
        self.refresh_seconds = refresh_seconds
        self.snapshot_path = snapshot_path
        self.view: CatalogView | None = None
        self._task: asyncio.Task | None = None
        self.loaded = asyncio.Event()

    async def refresh(self) -> bool:
        """Ask for changes once; True when a new snapshot was installed (False also when catalog-svc
        could not be asked: the copy we have keeps serving)."""
        current = self.view.version if self.view else ""
        snapshot = await self.client.snapshot(current)
        if snapshot is None or snapshot.not_modified:
            return False
        self._install(snapshot, "catalog")
        if self.snapshot_path is not None:
            try:
                await asyncio.to_thread(_write_atomically, self.snapshot_path, snapshot.SerializeToString())
            except OSError as failure:  # routing goes on; only the next cold start loses the fallback
                log.warning("could not save the catalog snapshot", extra={"fields": {"error": str(failure)}})
        return True

    async def load_saved(self) -> bool:
        """Install the snapshot saved by an earlier run, if there is one and nothing newer is installed."""
        if self.snapshot_path is None or self.view is not None:
            return False
        try:
            data = await asyncio.to_thread(self.snapshot_path.read_bytes)
            snapshot = catalog_pb2.CatalogSnapshot.FromString(data)
            if not snapshot.version or not snapshot.models:
                raise ValueError("the file holds no catalog")
            if self.view is None:  # a live snapshot may have arrived meanwhile
                self._install(snapshot, "saved file")
                return True
        except FileNotFoundError:
            pass
        except Exception:  # a damaged file is no catalog, not a crash
            log.exception("ignoring the saved catalog snapshot", extra={"fields": {"path": str(self.snapshot_path)}})
        return False

    def _install(self, snapshot: catalog_pb2.CatalogSnapshot, source: str) -> None:
        self.view = CatalogView(snapshot)
        self.loaded.set()
        log.info("catalog snapshot installed", extra={"fields": {"version": self.view.version, "source": source,
                                                                 "models": len(self.view.models)}})

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="catalog-refresh")

    async def _run(self) -> None:
        await self.load_saved()
        while True:
            try:
                await self.refresh()  # a catalog-svc that cannot be reached is logged once per poll
            except Exception:  # a bad snapshot must not kill the refresher
                log.exception("catalog refresh failed")
            await asyncio.sleep(self.refresh_seconds if self.view else min(self.refresh_seconds, 0.5))

    async def stop(self) -> None:
        await cancel_and_wait(self._task)


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # processes sharing a directory never clash
    temporary.write_bytes(data)
    os.replace(temporary, path)  # a reader sees the old file or the new one, never half of one
