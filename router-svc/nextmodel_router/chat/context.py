"""What one request carries through the chat path: its plan, and the facts the steps fill in.

One `ChatContext` per request replaces the principal/plan/route/receipt parameters the steps
would otherwise pass each other; each step reads what it needs and writes what it decides.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from nextmodel.billing.v1 import billing_pb2
from nextmodel.router.v1 import router_pb2
from nextmodel_router.catalog_copy import ModelRoute
from nextmodel_router.chat.request import ChatInput

POLICY_PREFIX = "nextmodel/"


@dataclass(slots=True)
class Plan:
    """What a request will do: the candidates in order and why (planning.py)."""

    candidates: list[ModelRoute]
    reason: str
    policy: str  # the routing policy's name, "" when a model was asked for
    tags: dict[str, str]  # the key's tags overlaid with the request's
    prompt_estimate: int


@dataclass(slots=True)
class ChatContext:
    principal: billing_pb2.Principal
    input: ChatInput
    plan: Plan
    request_id: str
    started: float = field(default_factory=time.perf_counter)
    attempts: list[router_pb2.Attempt] = field(default_factory=list)
    # the exact cache (cache_step.py)
    cache_status: str = "off"
    cache_slot: str = ""
    cache_leader: bool = False
    # the budget hold (admission.py)
    reservation_id: str = ""
    reserved_nano_usd: int = 0
    budget_remaining_nano_usd: int | None = None
    settled: bool = False
    # what served it (attempts.py, or the cache's replay)
    route: ModelRoute | None = None
    receipt_id: str = ""
    credential_source: str = ""

    @property
    def body(self) -> dict:
        return self.input.body

    @property
    def requested(self) -> str:
        return self.input.requested

    @property
    def cache_requested(self) -> str:
        """What the cache key names: the policy when one routes the request, else the model."""
        return f"{POLICY_PREFIX}{self.plan.policy}" if self.plan.policy else self.input.requested
