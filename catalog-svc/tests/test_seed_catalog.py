"""The shipped catalog seed: breadth, sources, money as decimal strings, names and lifecycle dates.

No network: everything is read from the seed file itself.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from urllib.parse import urlparse

import pytest
import yaml

from nextmodel_catalog.config import DEFAULT_SEED
from nextmodel_catalog.domain import Catalog, Model, load_seed

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Ids that other tests, the README and the policies rely on, with their provider.
KEPT_MODELS = {
    "gpt-4.1": "openai", "gpt-4o-mini": "openai", "deepseek-chat": "deepseek", "qwen-plus": "alibaba",
    "doubao-seed-2-0-mini": "bytedance-volcengine", "kimi-k2.6": "moonshot", "claude-sonnet-4-5": "anthropic",
    "claude-haiku-4-5": "anthropic", "gemini-2.5-flash": "google", "glm-4.6": "zhipu-zai",
    "MiniMax-M2.7": "minimax", "mistral-medium-3-5": "mistral", "grok-4.3": "xai",
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_seed(DEFAULT_SEED)


@pytest.fixture(scope="module")
def raw_models() -> list[dict]:
    """The models as written in the YAML, before load_seed turns values into strings."""
    return yaml.safe_load(DEFAULT_SEED.read_text(encoding="utf-8"))["models"]


def by_name(catalog: Catalog) -> dict[str, Model]:
    names: dict[str, Model] = {}
    for model in catalog.models:
        for name in (model.id, *model.aliases):
            names[name] = model
    return names


def is_iso_date(value: object) -> bool:
    if not isinstance(value, str) or not ISO_DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def test_the_seed_lists_at_least_42_models_from_at_least_10_providers(catalog) -> None:
    assert len(catalog.models) >= 42
    assert len({m.provider for m in catalog.models}) >= 10
    known = {p.id for p in catalog.providers}
    assert {m.provider for m in catalog.models} <= known


def test_chinese_and_global_models_are_both_present(catalog) -> None:
    regions = {m.region for m in catalog.models}
    assert "CN" in regions
    assert "global" in regions
    assert sum(m.region == "CN" for m in catalog.models) >= 4
    assert {m.provider for m in catalog.models if m.region == "CN"} >= {"deepseek", "bytedance-volcengine"}


def test_every_price_names_a_source_url_and_an_effective_date(catalog) -> None:
    for model in catalog.models:
        url = urlparse(model.price.source.split()[0])
        assert url.scheme == "https" and url.netloc, f"{model.id}: source {model.price.source!r} is not a URL"
        assert is_iso_date(model.price.effective_date), f"{model.id}: effective_date {model.price.effective_date!r}"


def test_prices_are_decimal_strings_never_floats(raw_models) -> None:
    for raw in raw_models:
        price = raw["price"]
        assert "input" in price and "output" in price, raw["id"]
        for field in ("input", "cached_input", "output"):
            if field not in price:
                continue
            value = price[field]
            assert isinstance(value, str), f"{raw['id']}: price.{field} is {type(value).__name__}, not a string"
            try:
                parsed = Decimal(value)
            except InvalidOperation:
                pytest.fail(f"{raw['id']}: price.{field} {value!r} is not a decimal")
            assert parsed.is_finite() and parsed >= 0, f"{raw['id']}: price.{field} {value!r}"
        # Quoted in the YAML so it stays a string too.
        assert isinstance(price["effective_date"], str), raw["id"]


def test_a_cached_input_price_is_never_above_the_input_price(catalog) -> None:
    for model in catalog.models:
        if model.price.cached_input is not None:
            assert Decimal(model.price.cached_input) <= Decimal(model.price.input), model.id


def test_every_model_has_limits_and_capabilities(catalog) -> None:
    for model in catalog.models:
        assert model.upstream_id, model.id
        assert model.context_window > 0, model.id
        assert 0 < model.max_output_tokens <= model.context_window, model.id
        assert model.capabilities.streaming, model.id


def test_names_are_unique_across_ids_and_aliases(catalog) -> None:
    names = [name for m in catalog.models for name in (m.id, *m.aliases)]
    assert len(names) == len(set(names))


@pytest.mark.parametrize(("name", "provider"), [
    ("claude-sonnet-4-5", "anthropic"),
    ("doubao-seed-2-0-mini", "bytedance-volcengine"),
    ("deepseek-chat", "deepseek"),
])
def test_friendly_names_clients_send_resolve(catalog, name, provider) -> None:
    model = by_name(catalog).get(name)
    assert model is not None, f"{name} does not resolve"
    assert model.provider == provider


def test_models_other_code_relies_on_keep_their_id_and_provider(catalog) -> None:
    models = {m.id: m for m in catalog.models}
    for model_id, provider in KEPT_MODELS.items():
        assert model_id in models, model_id
        assert models[model_id].provider == provider, model_id


def test_shutdown_dates_are_valid_dates(catalog, raw_models) -> None:
    for raw in raw_models:
        if raw.get("shutdown_date") is not None:
            assert is_iso_date(raw["shutdown_date"]), f"{raw['id']}: shutdown_date {raw['shutdown_date']!r}"
    lifecycle = {m.id: m.shutdown_date for m in catalog.models}
    assert lifecycle["gpt-4o-mini"] == "2027-01-14"
    assert lifecycle["gpt-4.1"] == "2027-01-14"
    assert lifecycle.get("gpt-5", "2026-12-11") == "2026-12-11"
