"""The exact cache: look up, store, and make identical in-flight misses wait for one leader.

An entry is only ever found by the same key: the same tenant namespace, the same requested
model or policy, and the same canonical request (keys.py). The router decides what may be
stored (complete, successful answers of the model the key names); this service keeps them.

Coalescing: the first miss of a key takes a lease and becomes its leader; identical misses
that arrive meanwhile wait, in this process on a future, on other replicas by polling the
shared store, until the leader stores (they get its answer) or abandons, or the lease
expires (they go to the upstream themselves). So a failed leader never blocks anyone for
longer than the lease.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from nextmodel_cache.keys import cache_key
from nextmodel_cache.store import CacheStore, StoreUnavailable

log = logging.getLogger(__name__)
POLL_SECONDS = 0.02


@dataclass(frozen=True)
class Lookup:
    slot: str  # "<namespace>/<key>": what Store and Abandon are given back
    entry: bytes | None = None
    leader: bool = False
    degraded: bool = False
    coalesced: bool = False


def split_slot(slot: str) -> tuple[str, str]:
    namespace, _, key = slot.partition("/")
    if not namespace or not key:
        raise ValueError(f"not a cache slot: {slot!r}")
    return namespace, key


class ExactCache:
    def __init__(self, store: CacheStore, max_entry_bytes: int) -> None:
        self.backend = store
        self.max_entry_bytes = max_entry_bytes
        self._inflight: dict[str, asyncio.Future] = {}
        self._background: set[asyncio.Task] = set()

    def _count(self, project_id: str, field: str) -> None:
        """Statistics leave the lookup's path: a background increment."""
        async def count() -> None:
            try:
                await self.backend.count(project_id, field)
            except StoreUnavailable:
                pass

        task = asyncio.get_running_loop().create_task(count())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def lookup(self, *, namespace: str, requested: str, body_json: bytes, skip_read: bool,
                     coalesce_timeout_ms: int, project_id: str) -> Lookup:
        key = cache_key(namespace, requested, body_json)
        slot = f"{namespace}/{key}"
        if skip_read:
            return Lookup(slot)
        try:
            entry = await self.backend.get(namespace, key)
            if entry is not None:
                self._count(project_id, "hits")
                return Lookup(slot, entry)
            if coalesce_timeout_ms <= 0:
                self._count(project_id, "misses")
                return Lookup(slot)
            waiting = self._inflight.get(slot)
            if waiting is None:
                if await self.backend.acquire_lease(slot, coalesce_timeout_ms):
                    self._lead(slot, coalesce_timeout_ms)
                    self._count(project_id, "misses")
                    return Lookup(slot, leader=True)
                entry = await self._poll(namespace, key, slot, coalesce_timeout_ms / 1000)
            else:
                try:
                    entry = await asyncio.wait_for(asyncio.shield(waiting), coalesce_timeout_ms / 1000)
                except TimeoutError:
                    entry = None
        except StoreUnavailable as failure:
            log.warning("cache store unavailable; answering miss", extra={"fields": {"error": str(failure)[:200]}})
            return Lookup(slot, degraded=True)
        if entry is not None:
            self._count(project_id, "hits")
            self._count(project_id, "coalesced")
            return Lookup(slot, entry, coalesced=True)
        self._count(project_id, "misses")
        return Lookup(slot)

    def _lead(self, slot: str, timeout_ms: int) -> None:
        loop = asyncio.get_running_loop()
        self._inflight[slot] = loop.create_future()
        loop.call_later(timeout_ms / 1000, self._finish, slot, None)  # a leader that never comes back

    def _finish(self, slot: str, entry: bytes | None) -> None:
        waiting = self._inflight.pop(slot, None)
        if waiting is not None and not waiting.done():
            waiting.set_result(entry)

    async def _poll(self, namespace: str, key: str, slot: str, timeout: float) -> bytes | None:
        """Another replica leads this key: wait for its answer, or for its lease to go."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(POLL_SECONDS)
            entry = await self.backend.get(namespace, key)
            if entry is not None:
                return entry
            if not await self.backend.lease_held(slot):
                return await self.backend.get(namespace, key)
        return None

    async def store(self, *, slot: str, entry: bytes, ttl_seconds: int) -> tuple[bool, str]:
        namespace, key = split_slot(slot)
        self._finish(slot, entry)  # waiters here get the answer even if it is too large to keep
        try:
            if len(entry) > self.max_entry_bytes:
                return False, "too_large"
            await self.backend.set(namespace, key, entry, ttl_seconds)
            return True, ""
        except StoreUnavailable:
            return False, "unavailable"
        finally:
            try:
                await self.backend.release_lease(slot)
            except StoreUnavailable:
                pass

    async def abandon(self, slot: str) -> None:
        self._finish(slot, None)
        try:
            await self.backend.release_lease(slot)
        except StoreUnavailable:
            pass

    async def stats(self, project_id: str, namespace: str) -> dict[str, int]:
        try:
            return await self.backend.stats(project_id, namespace)
        except StoreUnavailable:
            return {}
