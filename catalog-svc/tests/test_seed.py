from dataclasses import replace
from pathlib import Path

import pytest

from nextmodel_catalog.config import DEFAULT_SEED
from nextmodel_catalog.domain import SeedError, load_seed


def test_the_shipped_seed_loads_with_sources_for_every_price() -> None:
    catalog = load_seed(DEFAULT_SEED)
    assert len(catalog.models) >= 5
    providers = {p.id for p in catalog.providers}
    for model in catalog.models:
        assert model.provider in providers
        assert model.price.source.startswith("http")
        assert model.price.version.startswith(model.price.effective_date)


def test_a_price_change_is_a_new_version() -> None:
    model = load_seed(DEFAULT_SEED).models[0]
    changed = replace(model.price, output=str(model.price.output) + "1")
    assert changed.version != model.price.version
    assert replace(model.price).version == model.price.version


def test_a_seed_with_an_unknown_provider_is_refused(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text("providers: []\nmodels:\n  - {id: m, provider: nobody, context_window: 1, "
                    "price: {input: '1', output: '1', effective_date: '2026-01-01', source: s}}\n")
    with pytest.raises(SeedError, match="unknown provider"):
        load_seed(seed)
