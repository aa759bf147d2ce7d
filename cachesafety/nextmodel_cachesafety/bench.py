"""The bench itself: price the workload once, replay it through every policy, summarize each run."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from nextmodel_billing.domain import DEFAULT_CACHE_DISCOUNT_BPS
from nextmodel_cachesafety.metrics import PolicyResult, is_labelled, reusable_requests, summarize
from nextmodel_cachesafety.policies import CachePolicy
from nextmodel_cachesafety.pricing import DEFAULT_COMPLETION_TOKENS, PriceBook, RequestCost, fresh_cost
from nextmodel_cachesafety.progress import Progress
from nextmodel_cachesafety.replay import replay
from nextmodel_cachesafety.workload import WorkloadRequest


@dataclass(frozen=True)
class BenchSettings:
    # Production's default cache discount, read from billing so the two cannot drift apart.
    discount_bps: int = DEFAULT_CACHE_DISCOUNT_BPS
    default_completion_tokens: int = DEFAULT_COMPLETION_TOKENS


@dataclass(frozen=True)
class WorkloadSummary:
    source: str
    requests: int
    tenants: int
    labelled: bool
    reusable: int
    unpriced: int
    unpriced_models: tuple[str, ...]
    families: dict[str, int]
    languages: dict[str, int]


@dataclass(frozen=True)
class BenchResult:
    workload: WorkloadSummary
    settings: BenchSettings
    policies: tuple[PolicyResult, ...]
    embedding_model: str | None
    elapsed_seconds: float


def run_bench(requests: Sequence[WorkloadRequest], policies: Sequence[CachePolicy], prices: PriceBook,
              settings: BenchSettings = BenchSettings(), progress: Progress | None = None,
              source: str = "<workload>", embedding_model: str | None = None) -> BenchResult:
    progress = progress or Progress.silent()
    started = time.perf_counter()
    costs: list[RequestCost] = [fresh_cost(r, prices, settings.default_completion_tokens) for r in requests]
    labelled = is_labelled(requests)
    reusable = reusable_requests(requests)

    for policy in policies:
        policy.prepare(requests, progress)

    results = []
    progress.start("replaying policies", len(policies))
    for policy in policies:
        outcomes = replay(requests, costs, policy, settings.discount_bps)
        results.append(summarize(policy.name, policy.kind, policy.threshold, outcomes, labelled, reusable))
        progress.advance()
    progress.finish()

    unpriced = Counter(r.requested for r, cost in zip(requests, costs, strict=True) if not cost.priced)
    workload = WorkloadSummary(
        source=source,
        requests=len(requests),
        tenants=len({r.tenant for r in requests}),
        labelled=labelled,
        reusable=reusable,
        unpriced=sum(unpriced.values()),
        unpriced_models=tuple(sorted(unpriced)),
        families=dict(sorted(Counter(r.family for r in requests if r.family).items())),
        languages=dict(sorted(Counter(r.language for r in requests if r.language).items())),
    )
    return BenchResult(workload, settings, tuple(results), embedding_model, time.perf_counter() - started)
