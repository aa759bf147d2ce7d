from __future__ import annotations

from typing import Protocol


class StoreUnavailable(Exception):
    """The cache store cannot be reached; callers treat it as a miss and say so."""


class CacheStore(Protocol):
    """Entries are opaque bytes under `<namespace>:<key>`, with a TTL.

    Leases make identical misses wait for one leader, across every cache replica that
    shares the store.
    """

    async def get(self, namespace: str, key: str) -> bytes | None: ...

    async def set(self, namespace: str, key: str, value: bytes, ttl_seconds: int) -> None: ...

    async def acquire_lease(self, key: str, ttl_ms: int) -> bool:
        """True when this caller now leads the key (no one else does)."""

    async def release_lease(self, key: str) -> None: ...

    async def lease_held(self, key: str) -> bool: ...

    async def count(self, project_id: str, field: str, amount: int = 1) -> None:
        """Add to a per-project statistic (hits, misses, coalesced)."""

    async def stats(self, project_id: str, namespace: str) -> dict[str, int]: ...

    async def close(self) -> None: ...
