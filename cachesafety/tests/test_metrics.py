"""Every metric's arithmetic on a small hand-made workload whose answers are worked out by hand."""

from __future__ import annotations

import math

import pytest

from nextmodel_cachesafety.bench import BenchSettings, run_bench
from nextmodel_cachesafety.metrics import Rate, wilson_interval
from nextmodel_cachesafety.policies import PolicyContext, build_policies
from nextmodel_cachesafety.pricing import PriceBook, completion_tokens_of, estimate_prompt_tokens, hit_charge_nano
from nextmodel_cachesafety.report import report_json

Z2 = 1.959963984540054**2


def line(id_, tenant, text, answer_class, family, model="gpt-4o-mini", language="en", **fields):
    record = {"id": id_, "tenant": tenant, "answer_class": answer_class, "family": family,
              "completion_tokens": 100,
              "request": {"model": model, "messages": [{"role": "user", "content": text}], **fields}}
    if language:
        record["language"] = language
    return record


# Prompt tokens, (UTF-8 bytes of the compact messages JSON + 3) // 4:
#   [{"role":"user","content":"What is 2+2?"}]           42 bytes -> 11 tokens
#   [{"role":"user","content":"what is  2+2?"}]          43 bytes -> 11 tokens
#   [{"role":"user","content":"Tell me about Turkey."}]  51 bytes -> 13 tokens
# gpt-4o-mini costs $0.15 in / $0.60 out per 1M tokens, i.e. 150 / 600 nano-USD a token:
#   11 prompt + 100 completion = 1650 + 60000 = 61650 nano-USD; 13 + 100 = 1950 + 60000 = 61950.
# gpt-4.1 costs $2 / $8: 11 + 100 = 22000 + 800000 = 822000.
HAND_MADE = (
    line("r1", "t1", "What is 2+2?", "four", "original"),                         # miss everywhere
    line("r2", "t1", "What is 2+2?", "four", "repeat"),                           # exact: safe hit
    line("r3", "t1", "what is  2+2?", "four", "reformatted"),                     # normalized: safe hit
    line("r4", "t2", "What is 2+2?", "four", "cross_tenant", language=None),      # tenant-scoped: miss
    line("r5", "t1", "Tell me about Turkey.", "country", "original"),             # miss
    line("r6", "t1", "Tell me about turkey.", "bird", "case_change"),             # normalized: bad hit (r5)
    line("r7", "t1", "What is 2+2?", "four", "ignored_field", stream=True),       # exact: safe hit (stream ignored)
    line("r8", "t1", "What is 2+2?", "four@4.1", "model_change", model="gpt-4.1"),  # miss: model is in the key
    line("r9", "t1", "Tell me about turkey.", "bird", "repeat"),                  # exact: safe; normalized: bad (r5)
)
FRESH = 61650 * 5 + 61950 * 3 + 822000


@pytest.fixture
def results(workload):
    requests = workload(*HAND_MADE)
    policies = build_policies(["exact", "normalized"], PolicyContext())
    result = run_bench(requests, policies, PriceBook.from_seed(), BenchSettings(discount_bps=5000))
    return {policy.name: policy for policy in result.policies}, result


def test_token_estimates_and_list_costs_follow_the_documented_formulas(workload) -> None:
    r1, r5 = workload(HAND_MADE[0], HAND_MADE[4])
    assert estimate_prompt_tokens(r1.body) == 11
    assert estimate_prompt_tokens(r5.body) == 13


def test_exact_counts_hits_rates_and_precision(results) -> None:
    by_name, _ = results
    exact = by_name["exact"]
    assert (exact.requests, exact.hits, exact.safe_hits, exact.bad_hits, exact.cross_tenant_hits) == (9, 3, 3, 0, 0)
    assert exact.hit_rate == Rate(3, 9)
    assert exact.safe_hit_rate == Rate(3, 9)
    assert exact.bad_hit_rate == Rate(0, 9)
    assert exact.hit_precision == Rate(3, 3)
    assert exact.reusable == 4  # r2, r3, r7 (t1 "four") and r9 (t1 "bird"); r4 is another tenant's first
    assert exact.reuse_captured == Rate(3, 4)


def test_normalized_counts_the_case_trap_and_its_repeat_as_bad_hits(results) -> None:
    by_name, _ = results
    normalized = by_name["normalized"]
    assert (normalized.hits, normalized.safe_hits, normalized.bad_hits) == (5, 3, 2)
    assert normalized.bad_hit_rate == Rate(2, 9)
    assert normalized.hit_precision == Rate(3, 5)
    families = {(f.family, f.language): f for f in normalized.families}
    assert families[("case_change", "en")].trap_failures == Rate(1, 1)
    assert families[("case_change", "en")].is_trap
    assert families[("repeat", "en")].trap_failures == Rate(1, 2)  # r9 is served r5's answer
    assert not families[("repeat", "en")].is_trap
    assert families[("cross_tenant", "und")].requests == 1  # a line without language


def test_costs_are_integer_nano_usd_with_hits_at_half_price(results) -> None:
    by_name, _ = results
    exact, normalized = by_name["exact"], by_name["normalized"]
    assert exact.fresh_cost_nano == normalized.fresh_cost_nano == FRESH == 1_316_100
    # Hits pay list - round_half_up(list * 50%): 61650 -> 30825 saved, 61950 -> 30975 saved.
    assert exact.savings_nano == 30825 + 30825 + 30975
    assert exact.policy_cost_nano == FRESH - 92625
    assert normalized.savings_nano == 30825 * 3 + 30975 * 2
    assert normalized.bad_hit_savings_nano == 30975 * 2
    assert exact.savings_fraction == pytest.approx(92625 / FRESH)


def test_hit_charge_rounds_the_discount_half_up() -> None:
    assert hit_charge_nano(61650, 5000) == 30825
    assert hit_charge_nano(61651, 5000) == 30825  # discount 30825.5 rounds up to 30826
    assert hit_charge_nano(1000, 0) == 1000
    assert hit_charge_nano(1000, 10_000) == 0


def test_wilson_interval_matches_the_closed_forms() -> None:
    low, high = wilson_interval(0, 9)
    assert low == 0.0
    assert high == pytest.approx(Z2 / (9 + Z2))  # upper bound of 0 successes: z²/(n+z²)
    low, high = wilson_interval(9, 9)
    assert (low, high) == (pytest.approx(9 / (9 + Z2)), 1.0)
    low, high = wilson_interval(5, 10)
    assert (low, high) == (pytest.approx(0.2366, abs=1e-4), pytest.approx(0.7634, abs=1e-4))
    p, n = 2 / 9, 9
    centre = (p + Z2 / (2 * n)) / (1 + Z2 / n)
    half = math.sqrt(Z2) * math.sqrt(p * (1 - p) / n + Z2 / (4 * n * n)) / (1 + Z2 / n)
    assert Rate(2, 9).interval == (pytest.approx(centre - half), pytest.approx(centre + half))
    assert wilson_interval(0, 0) is None
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def test_report_json_carries_every_metric(results) -> None:
    _, result = results
    report = report_json(result)
    exact = next(policy for policy in report["policies"] if policy["name"] == "exact")
    assert exact["bad_hit_rate"]["value"] == 0.0
    assert exact["bad_hit_rate"]["ci95"][0] == 0.0
    assert exact["hit_precision"] == {"count": 3, "of": 3, "value": 1.0, "ci95": exact["hit_precision"]["ci95"]}
    assert exact["cost"]["fresh"] == {"nano_usd": 1_316_100, "usd": "0.001316100"}
    assert exact["cost"]["savings"]["nano_usd"] == 92625
    assert report["fresh_cost"]["nano_usd"] == 1_316_100
    assert report["workload"]["reusable"] == 4
    assert report["settings"]["discount_bps"] == 5000


def test_completion_tokens_come_from_the_line_then_the_request_then_the_default(workload) -> None:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]}
    with_line, with_max_completion, with_max, bare = workload(
        {"id": "a", "tenant": "t", "completion_tokens": 7, "request": {**body, "max_tokens": 50}},
        {"id": "b", "tenant": "t", "request": {**body, "max_completion_tokens": 40, "max_tokens": 50}},
        {"id": "c", "tenant": "t", "request": {**body, "max_tokens": 50}},
        {"id": "d", "tenant": "t", "request": body},
    )
    assert completion_tokens_of(with_line) == 7
    assert completion_tokens_of(with_max_completion) == 40
    assert completion_tokens_of(with_max) == 50
    assert completion_tokens_of(bare, default=256) == 256


def test_unpriced_models_cost_nothing_and_are_reported(workload) -> None:
    requests = workload(line("a", "t", "hi", "x", "original", model="my-private-model"),
                        line("b", "t", "hi", "x", "repeat", model="my-private-model"))
    result = run_bench(requests, build_policies(["exact"], PolicyContext()), PriceBook.from_seed())
    assert result.workload.unpriced == 2
    assert result.workload.unpriced_models == ("my-private-model",)
    assert result.policies[0].hits == 1
    assert result.policies[0].fresh_cost_nano == 0


def test_catalog_policies_are_priced_as_their_first_candidate(workload) -> None:
    prices = PriceBook.from_seed()
    assert prices.price_of("reliable-chat") == prices.price_of("gpt-4o-mini")


def test_a_global_store_counts_cross_tenant_hits_as_bad(workload) -> None:
    """A store keyed by the text alone (no tenant, no model), like a GPTCache-style cache."""
    from nextmodel_cachesafety.policies import KeyedPolicy

    class TextOnly(KeyedPolicy):
        kind = "text-only"

        def key(self, request):
            return request.body["messages"][-1]["content"]

    result = run_bench(workload(*HAND_MADE), [TextOnly()], PriceBook.from_seed())
    (text_only,) = result.policies
    # r2, r7 and r9 safe; r4 (tenant t2) is served t1's answer; r8 (gpt-4.1) is served gpt-4o-mini's.
    assert (text_only.hits, text_only.safe_hits, text_only.bad_hits, text_only.cross_tenant_hits) == (5, 3, 2, 1)
    families = {(f.family, f.language): f for f in text_only.families}
    assert families[("cross_tenant", "und")].trap_failures == Rate(1, 1)
    assert families[("model_change", "en")].trap_failures == Rate(1, 1)
    # Each hit is charged its own list price less half: r8's own gpt-4.1 price, not the entry's.
    assert text_only.savings_nano == 30825 * 3 + 411000 + 30975
    assert text_only.bad_hit_savings_nano == 30825 + 411000
    assert [(e.request_id, e.served_from_id, e.cross_tenant) for e in text_only.bad_hit_examples] == [
        ("r4", "r1", True), ("r8", "r1", False)]
