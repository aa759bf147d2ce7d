"""The embedded store: an LRU bounded by total bytes, with per-entry TTL. One process only."""

from __future__ import annotations

import time
from collections import OrderedDict, defaultdict


class MemoryStore:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, tuple[bytes, float, str]] = OrderedDict()
        self._bytes = 0
        self._namespace_bytes: dict[str, int] = defaultdict(int)
        self._namespace_entries: dict[str, int] = defaultdict(int)
        self._leases: dict[str, float] = {}
        self._counters: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def _drop(self, slot: str) -> None:
        value, _, namespace = self._entries.pop(slot)
        self._bytes -= len(value)
        self._namespace_bytes[namespace] -= len(value)
        self._namespace_entries[namespace] -= 1

    async def get(self, namespace: str, key: str) -> bytes | None:
        slot = f"{namespace}:{key}"
        found = self._entries.get(slot)
        if found is None:
            return None
        if found[1] <= time.monotonic():
            self._drop(slot)
            return None
        self._entries.move_to_end(slot)
        return found[0]

    async def set(self, namespace: str, key: str, value: bytes, ttl_seconds: int) -> None:
        slot = f"{namespace}:{key}"
        if slot in self._entries:
            self._drop(slot)
        self._entries[slot] = (value, time.monotonic() + ttl_seconds, namespace)
        self._bytes += len(value)
        self._namespace_bytes[namespace] += len(value)
        self._namespace_entries[namespace] += 1
        while self._bytes > self.max_bytes and self._entries:
            self._drop(next(iter(self._entries)))  # least recently used first

    async def acquire_lease(self, key: str, ttl_ms: int) -> bool:
        now = time.monotonic()
        if self._leases.get(key, 0) > now:
            return False
        self._leases[key] = now + ttl_ms / 1000
        return True

    async def release_lease(self, key: str) -> None:
        self._leases.pop(key, None)

    async def lease_held(self, key: str) -> bool:
        return self._leases.get(key, 0) > time.monotonic()

    async def count(self, project_id: str, field: str, amount: int = 1) -> None:
        self._counters[project_id][field] += amount

    async def stats(self, project_id: str, namespace: str) -> dict[str, int]:
        now = time.monotonic()
        for slot in [s for s, (_, expires, ns) in self._entries.items() if ns == namespace and expires <= now]:
            self._drop(slot)
        return {**self._counters[project_id], "entries": self._namespace_entries[namespace],
                "bytes": self._namespace_bytes[namespace]}

    async def close(self) -> None:
        self._entries.clear()
