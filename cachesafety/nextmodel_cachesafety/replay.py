"""Replaying a workload through one cache policy, request by request in file order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from nextmodel_cachesafety.policies import CachePolicy
from nextmodel_cachesafety.pricing import RequestCost, hit_charge_nano
from nextmodel_cachesafety.workload import WorkloadRequest


class Verdict(str, Enum):  # noqa: UP042 - StrEnum would change how reports format a member
    MISS = "miss"  # a fresh call
    SAFE = "safe"  # served an answer of the same class, stored by the same tenant
    BAD = "bad"  # served another class's answer, or another tenant's
    UNJUDGED = "unjudged"  # a same-tenant hit where either side has no answer_class


@dataclass(frozen=True)
class Outcome:
    request: WorkloadRequest
    verdict: Verdict
    served_from: WorkloadRequest | None
    similarity: float | None
    cacheable: bool
    cost: RequestCost
    charged_nano: int  # what the team pays for this request under the policy

    @property
    def hit(self) -> bool:
        return self.served_from is not None

    @property
    def cross_tenant(self) -> bool:
        return self.served_from is not None and self.served_from.tenant != self.request.tenant


def judge(request: WorkloadRequest, served_from: WorkloadRequest | None) -> Verdict:
    if served_from is None:
        return Verdict.MISS
    if served_from.tenant != request.tenant:
        return Verdict.BAD  # another tenant's answer is a leak whatever it says
    if request.answer_class is None or served_from.answer_class is None:
        return Verdict.UNJUDGED
    return Verdict.SAFE if served_from.answer_class == request.answer_class else Verdict.BAD


def replay(requests: Sequence[WorkloadRequest], costs: Sequence[RequestCost], policy: CachePolicy,
           discount_bps: int) -> list[Outcome]:
    """A hit is charged the request's own list cost less the discount; a miss pays list and is stored."""
    outcomes: list[Outcome] = []
    for request, cost in zip(requests, costs, strict=True):
        lookup = policy.lookup(request)
        if lookup.served_from is None:
            if lookup.cacheable:
                policy.store(request)
            charged = cost.list_cost_nano
        else:
            charged = hit_charge_nano(cost.list_cost_nano, discount_bps)
        outcomes.append(Outcome(
            request=request,
            verdict=judge(request, lookup.served_from),
            served_from=lookup.served_from,
            similarity=lookup.similarity,
            cacheable=lookup.cacheable,
            cost=cost,
            charged_nano=charged,
        ))
    return outcomes
