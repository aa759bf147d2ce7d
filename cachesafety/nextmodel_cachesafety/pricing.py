"""What each request of a workload would cost fresh, priced from the catalog seed like production prices it.

Money is integer nano-USD and prices are Decimal (nextmodel_common.money); floats never touch money.
Token counts are estimates: a workload line carries a request, not its usage.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import orjson

from nextmodel_cachesafety.workload import WorkloadRequest
from nextmodel_catalog.config import DEFAULT_SEED
from nextmodel_catalog.domain import Catalog, load_seed
from nextmodel_common import money

# Completion tokens assumed when neither the line nor the request says how long the answer is.
DEFAULT_COMPLETION_TOKENS = 256


@dataclass(frozen=True)
class ModelPrice:
    model_id: str
    input_per_mtok: Decimal
    cached_input_per_mtok: Decimal | None
    output_per_mtok: Decimal


@dataclass(frozen=True)
class RequestCost:
    prompt_tokens: int
    completion_tokens: int
    priced_as: str | None  # catalog model id; None when the requested name is not in the catalog
    list_cost_nano: int  # 0 when unpriced

    @property
    def priced(self) -> bool:
        return self.priced_as is not None


class PriceBook:
    """Model ids, aliases and routing policies (priced as their first candidate) to list prices."""

    def __init__(self, catalog: Catalog) -> None:
        self._prices: dict[str, ModelPrice] = {}
        for model in catalog.models:
            price = ModelPrice(
                model_id=model.id,
                input_per_mtok=money.price(model.price.input),
                cached_input_per_mtok=(
                    money.price(model.price.cached_input) if model.price.cached_input is not None else None
                ),
                output_per_mtok=money.price(model.price.output),
            )
            for name in (model.id, *model.aliases):
                self._prices[name] = price
        for policy in catalog.policies:
            candidates = policy.spec.get("candidates") or ()
            if candidates and candidates[0] in self._prices and policy.name not in self._prices:
                self._prices[policy.name] = self._prices[candidates[0]]

    @classmethod
    def from_seed(cls, seed_path: Path = DEFAULT_SEED) -> PriceBook:
        return cls(load_seed(seed_path))

    def price_of(self, requested: str) -> ModelPrice | None:
        return self._prices.get(requested)


def estimate_prompt_tokens(body: dict) -> int:
    """(UTF-8 bytes of the compact messages JSON + 3) // 4: about four bytes a token, rounded up."""
    return (len(orjson.dumps(body.get("messages") or [])) + 3) // 4


def completion_tokens_of(request: WorkloadRequest, default: int = DEFAULT_COMPLETION_TOKENS) -> int:
    """The line's `completion_tokens`, else the request's max_completion_tokens or max_tokens, else `default`."""
    if request.completion_tokens is not None:
        return request.completion_tokens
    for field in ("max_completion_tokens", "max_tokens"):
        value = request.body.get(field)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return default


def fresh_cost(request: WorkloadRequest, prices: PriceBook, default_completion_tokens: int) -> RequestCost:
    """List cost of sending the request to its model without a cache (no provider prompt caching assumed)."""
    prompt_tokens = estimate_prompt_tokens(request.body)
    completion_tokens = completion_tokens_of(request, default_completion_tokens)
    price = prices.price_of(request.requested)
    if price is None:
        return RequestCost(prompt_tokens, completion_tokens, None, 0)
    list_cost = money.request_cost_nano(
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cached_prompt_tokens=0,
        input_per_mtok=price.input_per_mtok,
        cached_input_per_mtok=price.cached_input_per_mtok,
        output_per_mtok=price.output_per_mtok,
    )
    return RequestCost(prompt_tokens, completion_tokens, price.model_id, list_cost)


def hit_charge_nano(list_cost_nano: int, discount_bps: int) -> int:
    """What a hit is charged: the list cost less the project's cache discount (billing's own arithmetic)."""
    return list_cost_nano - money.discount_nano(list_cost_nano, discount_bps)
