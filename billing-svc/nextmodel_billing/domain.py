"""Billing's domain: principals, receipts, pricing of settled usage, signatures."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

import orjson

from nextmodel_common import money

# A cache hit costs half the fresh list price unless the project says otherwise.
DEFAULT_CACHE_DISCOUNT_BPS = 5000
DEFAULT_CACHE_TTL_SECONDS = 24 * 3600


@dataclass(frozen=True)
class CacheSettings:
    enabled: bool = True
    ttl_seconds: int = DEFAULT_CACHE_TTL_SECONDS
    discount_bps: int = DEFAULT_CACHE_DISCOUNT_BPS
    # A hit freezes one sample; sampled requests (temperature > 0, n > 1) are not cached by default.
    cache_sampled: bool = False


@dataclass(frozen=True)
class Principal:
    key_id: str
    key_prefix: str
    project_id: str
    team_id: str
    allowed_models: tuple[str, ...] = ()
    default_policy: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    requests_per_minute: int = 0
    tokens_per_minute: int = 0
    cache: CacheSettings = field(default_factory=CacheSettings)
    cache_shared_in_team: bool = False
    has_budget: bool = False
    own_key_providers: tuple[str, ...] = ()
    # What is left of the tightest budget, in basis points of its limit (None: no budget).
    budget_remaining_bps: int | None = None
    # When the key stops working (None: never); routers refuse it from then on.
    expires_unix_ms: int | None = None


@dataclass(frozen=True)
class PriceApplied:
    version: str
    input_per_mtok_usd: str
    cached_input_per_mtok_usd: str
    output_per_mtok_usd: str


@dataclass(frozen=True)
class Usage:
    """One request's usage as the router reports it at settle time."""

    request_id: str
    receipt_id: str
    key_id: str
    project_id: str
    team_id: str
    requested_model: str
    served_model: str
    provider: str
    served_mode: str
    usage_source: str
    prompt_tokens: int
    completion_tokens: int
    cached_prompt_tokens: int
    price: PriceApplied
    discount_bps: int
    latency_ms: int
    status: str
    created_unix_ms: int
    tags: dict[str, str] = field(default_factory=dict)
    replayed_receipt_id: str = ""
    credential_source: str = "platform"
    route_reason: str = ""
    reservation_id: str = ""
    attempts: tuple[dict, ...] = ()


@dataclass(frozen=True)
class Receipt:
    id: str
    request_id: str
    created_unix_ms: int
    key_id: str
    project_id: str
    team_id: str
    requested_model: str
    served_model: str
    provider: str
    served_mode: str
    usage_source: str
    prompt_tokens: int
    completion_tokens: int
    cached_prompt_tokens: int
    price: PriceApplied
    list_cost_nano_usd: int
    discount_nano_usd: int
    charged_cost_nano_usd: int
    latency_ms: int
    status: str
    tags: dict[str, str]
    replayed_receipt_id: str
    credential_source: str
    route_reason: str
    attempts: tuple[dict, ...] = ()
    signature: str = ""

    def plain(self) -> dict:
        """The fields as JSON types (a fast, shallow asdict: this runs once per request)."""
        fields = {name: getattr(self, name) for name in RECEIPT_FIELDS}
        price = self.price
        fields["price"] = {"version": price.version, "input_per_mtok_usd": price.input_per_mtok_usd,
                           "cached_input_per_mtok_usd": price.cached_input_per_mtok_usd,
                           "output_per_mtok_usd": price.output_per_mtok_usd}
        fields["tags"] = dict(self.tags)
        fields["attempts"] = [dict(a) for a in self.attempts]
        return fields

    def signed_json(self) -> bytes:
        """The receipt as readers show it and `verify` reads it: the canonical fields and the signature."""
        return orjson.dumps(self.plain(), option=orjson.OPT_SORT_KEYS)

    def canonical(self) -> bytes:
        """The bytes the signature covers: every field but the signature, keys sorted."""
        fields = self.plain()
        fields.pop("signature")
        return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)


def price_usage(usage: Usage) -> tuple[int, int, int]:
    """(list cost, discount, charged cost) in nano-USD for settled usage."""
    cached_rate = usage.price.cached_input_per_mtok_usd
    list_cost = money.request_cost_nano(
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        cached_prompt_tokens=usage.cached_prompt_tokens,
        input_per_mtok=money.price(usage.price.input_per_mtok_usd or "0"),
        cached_input_per_mtok=money.price(cached_rate) if cached_rate else None,
        output_per_mtok=money.price(usage.price.output_per_mtok_usd or "0"),
    )
    discount = money.discount_nano(list_cost, usage.discount_bps)
    return list_cost, discount, list_cost - discount


def build_receipt(usage: Usage, secret: bytes) -> Receipt:
    list_cost, discount, charged = price_usage(usage)
    receipt = Receipt(
        id=usage.receipt_id,
        request_id=usage.request_id,
        created_unix_ms=usage.created_unix_ms,
        key_id=usage.key_id,
        project_id=usage.project_id,
        team_id=usage.team_id,
        requested_model=usage.requested_model,
        served_model=usage.served_model,
        provider=usage.provider,
        served_mode=usage.served_mode,
        usage_source=usage.usage_source,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        cached_prompt_tokens=usage.cached_prompt_tokens,
        price=usage.price,
        list_cost_nano_usd=list_cost,
        discount_nano_usd=discount,
        charged_cost_nano_usd=charged,
        latency_ms=usage.latency_ms,
        status=usage.status,
        tags=dict(usage.tags),
        replayed_receipt_id=usage.replayed_receipt_id,
        credential_source=usage.credential_source,
        route_reason=usage.route_reason,
        attempts=tuple(usage.attempts),
    )
    return sign(receipt, secret)


def sign(receipt: Receipt, secret: bytes) -> Receipt:
    signature = hmac.new(secret, receipt.canonical(), hashlib.sha256).hexdigest()
    return Receipt(**{**_shallow(receipt), "signature": signature})


def receipt_from_dict(data: dict) -> Receipt:
    """A receipt from its exported JSON (the canonical fields; rendered extras are ignored)."""
    fields = {name: data[name] for name in Receipt.__dataclass_fields__ if name in data}
    fields["price"] = PriceApplied(**{name: data["price"][name] for name in PriceApplied.__dataclass_fields__})
    fields["tags"] = dict(fields.get("tags") or {})
    fields["attempts"] = tuple(dict(a) for a in fields.get("attempts") or ())
    return Receipt(**fields)


def receipt_to_dict(receipt: Receipt) -> dict:
    """The canonical fields as plain JSON types (what export writes and verify reads)."""
    return receipt.plain()


RECEIPT_FIELDS = tuple(Receipt.__dataclass_fields__)


def verify(receipt: Receipt, secret: bytes) -> bool:
    expected = hmac.new(secret, receipt.canonical(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, receipt.signature)


def _shallow(receipt: Receipt) -> dict:
    return {name: getattr(receipt, name) for name in receipt.__dataclass_fields__}

