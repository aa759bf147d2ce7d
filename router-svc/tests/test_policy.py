"""The routing policy engine on a synthetic catalog, with synthetic latency and budget states."""

import orjson
import pytest

from nextmodel.catalog.v1 import catalog_pb2
from nextmodel_router import policy
from nextmodel_router.catalog_copy import CatalogView

PROVIDERS = [("openai", "global"), ("deepseek", "CN"), ("anthropic", "global"), ("alibaba", "global")]


def model(id, provider, input, output, *, region="global", context=128_000, tools=True, vision=True,
          json_schema=True, latency=None):
    m = catalog_pb2.Model(id=id, provider=provider, upstream_id=id, region=region, context_window=context,
                          max_output_tokens=4096,
                          price=catalog_pb2.Price(version="v1", input_per_mtok_usd=input, output_per_mtok_usd=output),
                          capabilities=catalog_pb2.Capabilities(tools=tools, vision=vision, json_schema=json_schema,
                                                                streaming=True, reasoning=False))
    if latency:
        m.latency.CopyFrom(catalog_pb2.LatencyStats(total_p50_ms=latency[0], total_p95_ms=latency[1],
                                                    error_rate=latency[2], samples=100))
    return m


def view(policies: dict[str, dict]) -> CatalogView:
    models = [
        model("big", "openai", "5", "15", latency=(900, 2500, 0.0)),
        model("small", "openai", "0.15", "0.6", latency=(300, 700, 0.01)),
        model("cn-cheap", "deepseek", "0.3", "1.2", region="CN", vision=False, json_schema=False,
              latency=(500, 1500, 0.2)),
        model("claude", "anthropic", "3", "15", latency=(800, 4000, 0.0)),
        model("short-context", "alibaba", "0.1", "0.2", context=1000, tools=False),
    ]
    snapshot = catalog_pb2.CatalogSnapshot(
        version="t", models=models,
        providers=[catalog_pb2.Provider(id=p, protocol="openai", env_prefix=p.upper(), region=r) for p, r in PROVIDERS],
        policies=[catalog_pb2.Policy(name=name, spec_json=orjson.dumps({"name": name, **spec}))
                  for name, spec in policies.items()])
    return CatalogView(snapshot)


def route(spec: dict, body: dict | None = None, prompt_tokens: int = 100, budget: int | None = None,
          extra: dict | None = None) -> policy.Route:
    catalog = view({"p": spec, **(extra or {})})
    return policy.choose(catalog.policies["p"], catalog, policy.needs_of(body or {}, prompt_tokens),
                         budget_remaining_bps=budget)


def ids(found: policy.Route) -> list[str]:
    return [r.id for r in found.candidates]


def test_given_order_is_the_fallback_chain() -> None:
    assert ids(route({"candidates": ["claude", "small", "big"]})) == ["claude", "small", "big"]


def test_without_candidates_every_model_sorted_by_estimated_price() -> None:
    assert ids(route({}))[:3] == ["short-context", "small", "cn-cheap"]


def test_providers_and_regions() -> None:
    assert ids(route({"allow_providers": ["openai"]})) == ["small", "big"]
    assert "cn-cheap" not in ids(route({"deny_regions": ["CN"]}))
    assert ids(route({"allow_regions": ["CN"]})) == ["cn-cheap"]
    assert "claude" not in ids(route({"deny_providers": ["anthropic"]}))


def test_price_caps() -> None:
    assert set(ids(route({"max_input_price": "0.5"}))) == {"small", "cn-cheap", "short-context"}
    assert set(ids(route({"max_output_price": "1"}))) == {"small", "short-context"}


def test_latency_and_error_rate_requirements() -> None:
    assert "claude" not in ids(route({"max_latency_p95_ms": 3000}))
    assert "short-context" in ids(route({"max_latency_p95_ms": 10})), "a model not measured yet passes"
    assert "cn-cheap" not in ids(route({"max_error_rate": 0.05}))
    assert ids(route({"candidates": ["big", "claude", "small"], "sort": "latency"})) == ["small", "claude", "big"]


@pytest.mark.parametrize("body, excluded", [
    ({"tools": [{"type": "function", "function": {"name": "f"}}]}, {"short-context"}),
    ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x"}}]}]},
     {"cn-cheap"}),
    ({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}}}, {"cn-cheap"}),
    ({"max_tokens": 2000}, {"short-context"}),
])
def test_capabilities_detected_from_the_request(body, excluded) -> None:
    assert not excluded & set(ids(route({}, body)))


def test_low_budget_switches_to_a_cheaper_policy() -> None:
    spec = {"candidates": ["big", "claude"], "low_budget": {"below_percent": 20, "policy": "saver"}}
    saver = {"saver": {"candidates": ["small", "cn-cheap"]}}
    assert ids(route(spec, budget=5000, extra=saver)) == ["big", "claude"]
    switched = route(spec, budget=1500, extra=saver)
    assert ids(switched) == ["small", "cn-cheap"] and "budget below 20%" in switched.reason
    assert ids(route(spec, budget=None, extra=saver)) == ["big", "claude"], "no budget, no switch"


def test_max_candidates_bounds_the_chain() -> None:
    assert len(ids(route({"max_candidates": 2}))) == 2


def test_the_filter_that_removed_the_last_candidate_is_named() -> None:
    with pytest.raises(policy.NoCandidate) as none_left:
        route({"candidates": ["cn-cheap"]}, {"response_format": {"type": "json_schema", "json_schema": {}}})
    assert none_left.value.rule == "capabilities" and "cn-cheap" in str(none_left.value)
    with pytest.raises(policy.NoCandidate) as none_left:
        route({"allow_regions": ["CN"], "max_input_price": "0.1"})
    assert none_left.value.rule == "max_input_price"


def test_tags_select_a_policy() -> None:
    catalog = view({"batch": {"match_tags": {"workload": "batch"}}, "chat": {"match_tags": {"workload": "chat"}}})
    assert policy.policy_for_tags(catalog, {"workload": "batch", "env": "prod"}).name == "batch"
    assert policy.policy_for_tags(catalog, {"env": "prod"}) is None
