"""A routing policy definition is checked field by field; a bad one is refused naming the field."""

from __future__ import annotations

import pytest

from nextmodel_catalog.domain import SeedError, parse_policy


def test_a_good_policy_keeps_its_definition_with_prices_as_decimal_strings() -> None:
    policy = parse_policy({"name": "cheap", "sort": "price", "max_input_price": 0.5, "candidates": ["a", "b"],
                           "low_budget": {"below_percent": 10, "policy": "cheaper"}, "match_tags": {"env": "dev"}})
    assert policy.name == "cheap"
    assert policy.spec["max_input_price"] == "0.5" and policy.spec["candidates"] == ["a", "b"]


@pytest.mark.parametrize("raw, message", [
    ({}, "a policy needs a name"),
    ({"name": ""}, "a policy needs a name"),
    ({"name": "p", "colour": "red"}, "policy p: unknown field 'colour'"),
    ({"name": "p", "candidates": "gpt"}, "policy p: candidates has the wrong type"),
    ({"name": "p", "max_latency_p95_ms": "500"}, "policy p: max_latency_p95_ms has the wrong type"),
    ({"name": "p", "max_input_price": "cheap"}, "policy p: max_input_price must be a decimal price"),
    ({"name": "p", "sort": "random"}, "policy p: sort must be one of latency, order, price"),
    ({"name": "p", "low_budget": {"below_percent": 10}}, "policy p: low_budget needs below_percent and policy"),
    ({"name": "p" * 129}, "the name must be 1 to 128 characters"),
])
def test_a_bad_policy_is_refused_naming_the_field(raw, message) -> None:
    with pytest.raises(SeedError) as refused:
        parse_policy(raw)
    assert message in str(refused.value)
