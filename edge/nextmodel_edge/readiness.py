"""GET /readyz: the edge is ready when the router can serve.

Requests reach the providers through the router alone: it serves Fresh when the cache is down,
routes on its catalog copy when the catalog is down, and serves known keys (settling through its
outbox) when billing is down. So only the router's health (SERVING once it has a catalog copy
and an outbox that takes settlements) decides; the other three are reported, for operators:

    {"status": "ready", "checks": {"router": "ok", "cache": "unavailable", "billing": "ok", "catalog": "ok"}}

A check is "ok" (SERVING), "not_serving" (it answers, but cannot take work), "timeout" (no answer
within the deadline) or "unavailable" (unreachable, or any other failure).

Probes come every few seconds from every kubelet and load balancer, and /readyz is never shed
(middleware.py), so the four health calls run in parallel under one short deadline, an answer is
kept for CACHE_SECONDS, and concurrent requests share the check under way.
"""

from __future__ import annotations

import asyncio
import time

from nextmodel_edge.clients import Upstreams

# The dependency the edge cannot serve without.
REQUIRED = "router"
CACHE_SECONDS = 1.0

_CHECKS = {
    "SERVING": "ok",
    "NOT_SERVING": "not_serving",
    "UNKNOWN": "not_serving",
    "SERVICE_UNKNOWN": "not_serving",
    "DEADLINE_EXCEEDED": "timeout",
}


class Readiness:
    def __init__(self, upstreams: Upstreams, timeout: float, cache_seconds: float = CACHE_SECONDS) -> None:
        self.upstreams = upstreams
        self.timeout = timeout
        self.cache_seconds = cache_seconds
        self._answer: tuple[bool, dict[str, str]] | None = None
        self._answered_at = float("-inf")
        self._checking: asyncio.Task | None = None

    async def check(self) -> tuple[bool, dict[str, str]]:
        """(ready, each dependency's check)."""
        if self._answer is not None and time.monotonic() - self._answered_at < self.cache_seconds:
            return self._answer
        if self._checking is None or self._checking.done():
            self._checking = asyncio.create_task(self._check(), name="readyz")
        # Shielded: a prober that hangs up does not cancel the check the others wait for.
        return await asyncio.shield(self._checking)

    async def _check(self) -> tuple[bool, dict[str, str]]:
        statuses = await self.upstreams.health(timeout=self.timeout)
        checks = {name: _CHECKS.get(status, "unavailable") for name, status in statuses.items()}
        self._answer, self._answered_at = (checks.get(REQUIRED) == "ok", checks), time.monotonic()
        return self._answer
