"""The numbers a team reads before turning a cache on. Each is defined in docs/cachesafety.md.

Rates carry a 95% Wilson score interval: it stays inside [0, 1] and behaves at 0 and at small counts,
where the textbook p ± 1.96·sqrt(p(1-p)/n) interval says "0 ± 0" after a handful of requests.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from nextmodel_cachesafety.replay import Outcome, Verdict
from nextmodel_cachesafety.workload import WorkloadRequest

Z_95 = 1.959963984540054  # the standard normal quantile for a two-sided 95% interval
NO_FAMILY = "(none)"
NO_LANGUAGE = "und"  # BCP 47 "undetermined"
BAD_HIT_EXAMPLES = 20  # the first ones in workload order, per policy


@dataclass(frozen=True)
class Rate:
    count: int
    total: int

    @property
    def value(self) -> float | None:
        return self.count / self.total if self.total else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson_interval(self.count, self.total)

    def as_json(self) -> dict:
        interval = self.interval
        return {
            "count": self.count,
            "of": self.total,
            "value": _round(self.value),
            "ci95": [_round(interval[0]), _round(interval[1])] if interval else None,
        }


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float] | None:
    """Wilson score interval for a binomial proportion; None when there were no trials."""
    if trials <= 0:
        return None
    if not 0 <= successes <= trials:
        raise ValueError(f"{successes} successes out of {trials} trials")
    p = successes / trials
    z2 = z * z
    denominator = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class FamilyResult:
    family: str
    language: str
    requests: int
    hits: int
    safe_hits: int
    bad_hits: int
    is_trap: bool

    @property
    def trap_failures(self) -> Rate:
        """Requests of this family and language that were served a wrong answer."""
        return Rate(self.bad_hits, self.requests)

    @property
    def safe_hit_rate(self) -> Rate:
        return Rate(self.safe_hits, self.requests)

    def as_json(self) -> dict:
        return {
            "family": self.family, "language": self.language, "trap": self.is_trap,
            "requests": self.requests, "hits": self.hits, "safe_hits": self.safe_hits, "bad_hits": self.bad_hits,
            "trap_failure_rate": self.trap_failures.as_json(), "safe_hit_rate": self.safe_hit_rate.as_json(),
        }


@dataclass(frozen=True)
class BadHit:
    """One wrong answer a policy would serve: what a team reads to see why a policy fails."""

    request_id: str
    served_from_id: str
    family: str | None
    similarity: float | None
    cross_tenant: bool

    def as_json(self) -> dict:
        return {"request": self.request_id, "served_from": self.served_from_id, "family": self.family,
                "similarity": _round(self.similarity), "cross_tenant": self.cross_tenant}


@dataclass(frozen=True)
class PolicyResult:
    name: str
    kind: str
    threshold: float | None
    labelled: bool
    requests: int
    not_cacheable: int
    hits: int
    safe_hits: int
    bad_hits: int
    unjudged_hits: int
    cross_tenant_hits: int
    reusable: int
    fresh_cost_nano: int
    policy_cost_nano: int
    bad_hit_savings_nano: int
    families: tuple[FamilyResult, ...]
    bad_hit_examples: tuple[BadHit, ...] = ()

    @property
    def hit_rate(self) -> Rate:
        return Rate(self.hits, self.requests)

    @property
    def safe_hit_rate(self) -> Rate | None:
        return Rate(self.safe_hits, self.requests) if self.labelled else None

    @property
    def bad_hit_rate(self) -> Rate | None:
        return Rate(self.bad_hits, self.requests) if self.labelled else None

    @property
    def hit_precision(self) -> Rate | None:
        return Rate(self.safe_hits, self.safe_hits + self.bad_hits) if self.labelled else None

    @property
    def reuse_captured(self) -> Rate | None:
        return Rate(self.safe_hits, self.reusable) if self.labelled else None

    @property
    def savings_nano(self) -> int:
        return self.fresh_cost_nano - self.policy_cost_nano

    @property
    def savings_fraction(self) -> float | None:
        return self.savings_nano / self.fresh_cost_nano if self.fresh_cost_nano else None


def reusable_requests(requests: Sequence[WorkloadRequest]) -> int:
    """Requests whose answer class an earlier request of the same tenant already had: the most a
    perfectly safe cache could serve."""
    seen: set[tuple[str, str]] = set()
    count = 0
    for request in requests:
        if request.answer_class is None:
            continue
        key = (request.tenant, request.answer_class)
        count += key in seen
        seen.add(key)
    return count


def is_labelled(requests: Sequence[WorkloadRequest]) -> bool:
    return any(request.answer_class is not None for request in requests)


def summarize(name: str, kind: str, threshold: float | None, outcomes: Sequence[Outcome],
              labelled: bool, reusable: int) -> PolicyResult:
    verdicts = [outcome.verdict for outcome in outcomes]
    bad_hit_savings = sum(
        outcome.cost.list_cost_nano - outcome.charged_nano for outcome in outcomes if outcome.verdict is Verdict.BAD
    )
    return PolicyResult(
        name=name,
        kind=kind,
        threshold=threshold,
        labelled=labelled,
        requests=len(outcomes),
        not_cacheable=sum(not outcome.cacheable for outcome in outcomes),
        hits=sum(outcome.hit for outcome in outcomes),
        safe_hits=verdicts.count(Verdict.SAFE),
        bad_hits=verdicts.count(Verdict.BAD),
        unjudged_hits=verdicts.count(Verdict.UNJUDGED),
        cross_tenant_hits=sum(outcome.cross_tenant for outcome in outcomes),
        reusable=reusable,
        fresh_cost_nano=sum(outcome.cost.list_cost_nano for outcome in outcomes),
        policy_cost_nano=sum(outcome.charged_nano for outcome in outcomes),
        bad_hit_savings_nano=bad_hit_savings,
        families=_by_family(outcomes),
        bad_hit_examples=tuple(
            BadHit(o.request.id, o.served_from.id, o.request.family, o.similarity, o.cross_tenant)
            for o in outcomes if o.verdict is Verdict.BAD
        )[:BAD_HIT_EXAMPLES],
    )


def _by_family(outcomes: Sequence[Outcome]) -> tuple[FamilyResult, ...]:
    if not any(outcome.request.family for outcome in outcomes):
        return ()
    groups: dict[tuple[str, str], list[Outcome]] = {}
    for outcome in outcomes:
        key = (outcome.request.family or NO_FAMILY, outcome.request.language or NO_LANGUAGE)
        groups.setdefault(key, []).append(outcome)
    return tuple(
        FamilyResult(
            family=family,
            language=language,
            requests=len(group),
            hits=sum(outcome.hit for outcome in group),
            safe_hits=sum(outcome.verdict is Verdict.SAFE for outcome in group),
            bad_hits=sum(outcome.verdict is Verdict.BAD for outcome in group),
            is_trap=group[0].request.is_trap,
        )
        for (family, language), group in sorted(groups.items())
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
