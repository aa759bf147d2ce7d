from decimal import Decimal

import pytest

from nextmodel_common import money


def test_token_cost_is_exact_nano_usd() -> None:
    # 1,000 tokens at $0.15 per 1M = $0.00015 = 150,000 nano-USD.
    assert money.token_cost_nano(1_000, Decimal("0.15")) == 150_000
    # Sub-nano amounts round half up: 1 token at $0.0005/1M = 0.5 nano.
    assert money.token_cost_nano(1, Decimal("0.0005")) == 1
    assert money.token_cost_nano(1, Decimal("0.0004")) == 0


def test_request_cost_bills_cached_tokens_at_the_cached_rate() -> None:
    cost = money.request_cost_nano(
        prompt_tokens=1_000, completion_tokens=100, cached_prompt_tokens=400,
        input_per_mtok=Decimal("2"), cached_input_per_mtok=Decimal("0.5"), output_per_mtok=Decimal("8"),
    )
    assert cost == 600 * 2_000 + 400 * 500 + 100 * 8_000


def test_without_a_cached_price_cached_tokens_cost_the_input_price() -> None:
    cost = money.request_cost_nano(
        prompt_tokens=10, completion_tokens=0, cached_prompt_tokens=10,
        input_per_mtok=Decimal("1"), cached_input_per_mtok=None, output_per_mtok=Decimal("1"),
    )
    assert cost == 10_000


def test_floats_are_refused_as_prices() -> None:
    with pytest.raises(TypeError):
        money.price(0.1)
    with pytest.raises(ValueError):
        money.price("-1")


def test_rendering_in_usd_and_sar() -> None:
    assert money.usd(0) == "0.000000000"
    assert money.usd(1_500_000_000) == "1.500000000"
    assert money.sar(1_000_000_000) == "3.750000000"
    assert money.discount_nano(1001, 5000) == 501
