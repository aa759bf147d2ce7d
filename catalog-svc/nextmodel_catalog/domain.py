"""The catalog's domain: what a provider, a model and a price are, and how the seed becomes them.

Nothing here knows about gRPC or about which database holds the data.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from nextmodel_common import limits, money

PROTOCOLS = {"openai", "anthropic"}


@dataclass(frozen=True)
class Provider:
    id: str
    name: str
    protocol: str
    env_prefix: str
    default_base_url: str
    region: str
    quirks: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Price:
    input: str
    output: str
    cached_input: str | None
    effective_date: str
    source: str

    @property
    def version(self) -> str:
        """Content-addressed: the same numbers on the same date are the same version."""
        digest = hashlib.sha256(
            f"{self.input}|{self.cached_input or ''}|{self.output}|{self.effective_date}".encode()
        ).hexdigest()[:8]
        return f"{self.effective_date}.{digest}"


@dataclass(frozen=True)
class Capabilities:
    tools: bool = False
    vision: bool = False
    json_schema: bool = False
    streaming: bool = True
    reasoning: bool = False


@dataclass(frozen=True)
class Model:
    id: str
    provider: str
    upstream_id: str
    region: str
    context_window: int
    max_output_tokens: int
    price: Price
    capabilities: Capabilities
    aliases: tuple[str, ...] = ()
    shutdown_date: str | None = None
    created: int = 0


@dataclass(frozen=True)
class Policy:
    name: str
    spec: dict


@dataclass(frozen=True)
class Catalog:
    providers: tuple[Provider, ...]
    models: tuple[Model, ...]
    policies: tuple[Policy, ...] = ()

    @property
    def version(self) -> str:
        """Changes whenever anything a router would route on changes."""
        return hashlib.sha256(orjson.dumps(asdict(self), option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


class SeedError(ValueError):
    pass


SORTS = ("latency", "order", "price")
PRICE_FIELDS = ("max_input_price", "max_output_price")


class _LowBudget(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    below_percent: int | float
    policy: str


class PolicySpec(BaseModel):
    """What a routing policy may say (the router's policy engine reads these). Strict: a value of
    the wrong type is refused, never converted; an unknown field is refused."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1, max_length=limits.POLICY_NAME.max_length)
    description: str | None = None
    candidates: list[Any] | None = None
    allow_providers: list[Any] | None = None
    deny_providers: list[Any] | None = None
    allow_regions: list[Any] | None = None
    deny_regions: list[Any] | None = None
    max_input_price: str | None = None
    max_output_price: str | None = None
    max_latency_p95_ms: int | None = None
    max_error_rate: int | float | None = None
    sort: Literal["order", "price", "latency"] | None = None
    max_candidates: int | None = None
    low_budget: _LowBudget | None = None
    match_tags: dict[str, Any] | None = None

    @field_validator(*PRICE_FIELDS, mode="before")
    @classmethod
    def _decimal_price(cls, value: Any) -> Any:
        if value is None:
            return value
        text = str(value)
        try:
            money.price(text)
        except ArithmeticError:  # decimal.InvalidOperation: pydantic reports only ValueError
            raise ValueError("not a decimal price") from None
        return text


def _refusal(name: str, failure: ValidationError) -> SeedError:
    error = failure.errors()[0]
    field = str(error["loc"][0]) if error["loc"] else ""
    if error["type"] == "extra_forbidden":
        return SeedError(f"policy {name}: unknown field {field!r}")
    if field in PRICE_FIELDS:
        return SeedError(f"policy {name}: {field} must be a decimal price")
    if field == "sort" and error["type"] == "literal_error":
        return SeedError(f"policy {name}: sort must be one of {', '.join(SORTS)}")
    if field == "low_budget" and len(error["loc"]) > 1:
        return SeedError(f"policy {name}: low_budget needs below_percent and policy")
    if field == "name":
        return SeedError(f"policy {name[:64]}: the name must be 1 to {limits.POLICY_NAME.max_length} characters")
    return SeedError(f"policy {name}: {field} has the wrong type")


def parse_policy(raw: dict) -> Policy:
    """Check a policy definition; a bad one is refused with the field named."""
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
        raise SeedError("a policy needs a name")
    name = raw["name"]
    try:
        PolicySpec.model_validate(raw)
    except ValidationError as failure:
        raise _refusal(name, failure) from None
    # The definition is kept as given (prices as decimal strings), so it round-trips unchanged.
    return Policy(name=name, spec={**raw, **{field: str(raw[field]) for field in PRICE_FIELDS if field in raw}})


def load_seed(path: Path) -> Catalog:
    """Parse and check the seed YAML; a bad seed stops the service at start, with the reason."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    providers = tuple(_provider(p) for p in raw.get("providers") or ())
    known = {p.id for p in providers}
    models = tuple(_model(m, known) for m in raw.get("models") or ())
    policies = tuple(parse_policy(p) for p in raw.get("policies") or ())
    names: set[str] = set()
    for model in models:
        for name in (model.id, *model.aliases):
            if name in names:
                raise SeedError(f"model name {name!r} is used twice")
            names.add(name)
    return Catalog(providers=providers, models=models, policies=policies)


def _provider(raw: dict) -> Provider:
    try:
        provider = Provider(
            id=raw["id"],
            name=raw.get("name", raw["id"]),
            protocol=raw.get("protocol", "openai"),
            env_prefix=raw["env_prefix"],
            default_base_url=raw["default_base_url"].rstrip("/"),
            region=raw.get("region", "global"),
            quirks=raw.get("quirks") or {},
        )
    except KeyError as missing:
        raise SeedError(f"provider {raw.get('id', '?')}: missing {missing}") from None
    if provider.protocol not in PROTOCOLS:
        raise SeedError(f"provider {provider.id}: unknown protocol {provider.protocol!r}")
    return provider


def _model(raw: dict, providers: set[str]) -> Model:
    try:
        model_id = raw["id"]
        if raw["provider"] not in providers:
            raise SeedError(f"model {model_id}: unknown provider {raw['provider']!r}")
        raw_price = raw["price"]
        price = Price(
            input=str(money.price(str(raw_price["input"]))),
            output=str(money.price(str(raw_price["output"]))),
            cached_input=(
                str(money.price(str(raw_price["cached_input"]))) if raw_price.get("cached_input") is not None else None
            ),
            effective_date=str(raw_price["effective_date"]),
            source=raw_price["source"],
        )
        return Model(
            id=model_id,
            provider=raw["provider"],
            upstream_id=raw.get("upstream_id", model_id),
            region=raw.get("region", "global"),
            context_window=int(raw["context_window"]),
            max_output_tokens=int(raw.get("max_output_tokens", 4096)),
            price=price,
            capabilities=Capabilities(**(raw.get("capabilities") or {})),
            aliases=tuple(raw.get("aliases") or ()),
            shutdown_date=str(raw["shutdown_date"]) if raw.get("shutdown_date") else None,
        )
    except KeyError as missing:
        raise SeedError(f"model {raw.get('id', '?')}: missing {missing}") from None
