"""What one request carries through the chat path: its plan, and the facts the steps fill in.

One `ChatContext` per request replaces the principal/plan/route/receipt parameters the steps
would otherwise pass each other; each step reads what it needs and writes what it decides.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from nextmodel.billing.v1 import billing_pb2
from nextmodel.common.v1 import common_pb2
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


class ChatContext:
    """One request's facts. A plain class with slots: it is made once per request and its fields
    are read on every step, so `body` and `requested` are copied out of the input, not properties."""

    __slots__ = ("principal", "input", "plan", "request_id", "body", "requested", "started", "attempts",
                 "cache_status", "cache_slot", "cache_leader",
                 "reservation_id", "reserved_nano_usd", "budget_remaining_nano_usd", "settled",
                 "route", "receipt_id", "credential_source")

    def __init__(self, principal: billing_pb2.Principal, chat: ChatInput, plan: Plan, request_id: str) -> None:
        self.principal = principal
        self.input = chat
        self.plan = plan
        self.request_id = request_id
        self.body: dict = chat.body
        self.requested: str = chat.requested
        self.started = time.perf_counter()
        self.attempts: list[common_pb2.Attempt] = []
        # the exact cache (cache_step.py)
        self.cache_status = "off"
        self.cache_slot = ""
        self.cache_leader = False
        # the budget hold (admission.py)
        self.reservation_id = ""
        self.reserved_nano_usd = 0
        self.budget_remaining_nano_usd: int | None = None
        self.settled = False
        # what served it (attempts.py, or the cache's replay)
        self.route: ModelRoute | None = None
        self.receipt_id = ""
        self.credential_source = ""

    @property
    def served_route(self) -> ModelRoute:
        """The route that answered: set by the winning attempt or the cache's replay, before any
        step that reads it runs."""
        route = self.route
        assert route is not None, "read before a route answered"
        return route

    @property
    def cache_requested(self) -> str:
        """What the cache key names: the policy when one routes the request, else the model."""
        return f"{POLICY_PREFIX}{self.plan.policy}" if self.plan.policy else self.requested
