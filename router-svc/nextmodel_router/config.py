from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import PrivateAttr

from nextmodel_common.settings import BaseServiceSettings


class RouterSettings(BaseServiceSettings):
    router_port: int = 50051
    # How often the local catalog copy asks catalog-svc whether anything changed.
    catalog_refresh_seconds: float = 5.0
    # Upstream timeouts (seconds): connecting, waiting for the first byte, the whole call.
    upstream_connect_timeout: float = 5.0
    upstream_first_byte_timeout: float = 60.0
    upstream_total_timeout: float = 600.0
    upstream_max_connections: int = 512
    # Deadline for calls to the other NextModel services (seconds).
    internal_timeout: float = 5.0
    # Where usage waits when billing cannot take it (a durable file; see outbox.py).
    router_outbox_path: Path = Path(".data/router-outbox.db")
    # The last catalog snapshot the router saw, for a start while catalog-svc is down
    # (default: beside the outbox, `router-catalog.pb`).
    router_catalog_snapshot_path: Path | None = None
    # How long a settlement waits in the outbox for others to join its batch to billing
    # (usage shows in billing this much later; a busy router sends far fewer, larger batches).
    settle_linger_ms: int = 50
    # How long a key that authenticated before keeps working while billing is unreachable.
    auth_stale_seconds: float = 300.0
    # Shared rate-limit counters when set; in-process otherwise.
    redis_url: str = ""
    # How often observed latencies go to the catalog (at most one report per period).
    latency_report_seconds: float = 2.0
    # How long an answer waits to join others in one StoreBatch call to the cache (off the
    # response path; only an identical request arriving meanwhile waits for it).
    cache_store_linger_ms: int = 10
    # How long identical misses wait for the first one's answer before calling the upstream themselves.
    cache_coalesce_timeout_ms: int = 15_000

    # Provider credentials and endpoints use the ecosystem's names
    # (<PROVIDER>_API_KEY, <PROVIDER>_BASE_URL); they are captured here, once.
    _provider_env: dict[str, str] = PrivateAttr(default_factory=dict)

    def model_post_init(self, __context) -> None:
        self._provider_env = {
            name: value for name, value in os.environ.items() if name.endswith(("_API_KEY", "_BASE_URL")) and value
        }

    @property
    def catalog_snapshot_path(self) -> Path:
        return self.router_catalog_snapshot_path or self.router_outbox_path.parent / "router-catalog.pb"

    def provider_api_key(self, env_prefix: str) -> str | None:
        return self._provider_env.get(f"{env_prefix}_API_KEY")

    def provider_base_url(self, env_prefix: str) -> str | None:
        return self._provider_env.get(f"{env_prefix}_BASE_URL")


@lru_cache
def get_settings() -> RouterSettings:
    return RouterSettings()
