"""Live latency: rolling percentiles of what the routers observe, per model.

Routers report time to first token, total time and errors in batches; the catalog keeps the
newest observations of each model within a window and serves p50/p95 and the error rate
with the catalog, so policies can route on them without a call per request.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

WINDOW_SECONDS = 15 * 60
MAX_SAMPLES = 1000


@dataclass(frozen=True)
class Observation:
    at: float
    ttft_ms: int
    total_ms: int
    error: bool


@dataclass(frozen=True)
class LatencySummary:
    ttft_p50_ms: int
    ttft_p95_ms: int
    total_p50_ms: int
    total_p95_ms: int
    error_rate: float
    samples: int


def _percentile(values: list[int], q: float) -> int:
    if not values:
        return 0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class LatencyBook:
    def __init__(self, window_seconds: float = WINDOW_SECONDS, max_samples: int = MAX_SAMPLES) -> None:
        self.window_seconds = window_seconds
        self._samples: dict[str, deque[Observation]] = {}
        self.max_samples = max_samples
        self.version = 0  # changes whenever a summary may have changed

    def add(self, model: str, ttft_ms: int, total_ms: int, error: bool, at: float | None = None) -> None:
        samples = self._samples.setdefault(model, deque(maxlen=self.max_samples))
        samples.append(Observation(at or time.time(), max(ttft_ms, 0), max(total_ms, 0), error))
        self.version += 1

    def summary(self, model: str, now: float | None = None) -> LatencySummary | None:
        samples = self._samples.get(model)
        if not samples:
            return None
        cutoff = (now or time.time()) - self.window_seconds
        recent = [s for s in samples if s.at >= cutoff]
        if not recent:
            return None
        ok = [s for s in recent if not s.error]
        return LatencySummary(
            ttft_p50_ms=_percentile([s.ttft_ms for s in ok], 0.5),
            ttft_p95_ms=_percentile([s.ttft_ms for s in ok], 0.95),
            total_p50_ms=_percentile([s.total_ms for s in ok], 0.5),
            total_p95_ms=_percentile([s.total_ms for s in ok], 0.95),
            error_rate=round(sum(s.error for s in recent) / len(recent), 4), samples=len(recent))
