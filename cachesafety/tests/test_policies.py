"""The policies: exact is production's key function, normalized folds text, semantic is a global store."""

from __future__ import annotations

import orjson
import pytest

import nextmodel_cache.keys
from nextmodel_cachesafety import policies as policies_module
from nextmodel_cachesafety.bench import run_bench
from nextmodel_cachesafety.embeddings import EmbeddingModelMissing
from nextmodel_cachesafety.policies import (
    ExactPolicy,
    NormalizedPolicy,
    PolicyContext,
    PolicySpecError,
    build_policies,
    folded_body,
    needs_embeddings,
    parse_thresholds,
)
from nextmodel_cachesafety.pricing import PriceBook, RequestCost
from nextmodel_cachesafety.progress import Progress
from nextmodel_cachesafety.replay import Verdict, replay
from nextmodel_cachesafety.workload import builtin_workload_path, load_workload


def line(id_, text, tenant="t1", answer_class="a", model="gpt-4o-mini", **fields):
    return {"id": id_, "tenant": tenant, "answer_class": answer_class,
            "request": {"model": model, "messages": [{"role": "user", "content": text}], **fields}}


def run(policy, requests):
    return replay(requests, [RequestCost(0, 0, None, 0)] * len(requests), policy, 5000)


def test_exact_is_productions_key_function_itself() -> None:
    assert policies_module.production_keys is nextmodel_cache.keys
    assert policies_module.production_keys.cache_key is nextmodel_cache.keys.cache_key


def test_exact_asks_production_for_every_key(monkeypatch, workload) -> None:
    calls = []
    real = nextmodel_cache.keys.cache_key

    def spy(namespace: str, requested: str, body_json: bytes) -> str:
        calls.append((namespace, requested, orjson.loads(body_json)))
        return real(namespace, requested, body_json)

    monkeypatch.setattr(nextmodel_cache.keys, "cache_key", spy)
    (request,) = workload(line("r1", "hello", tenant="proj_a", temperature=0))
    ExactPolicy().lookup(request)
    assert calls == [("proj_a", "gpt-4o-mini", request.body)]


def test_a_changed_production_key_changes_what_the_bench_measures(monkeypatch, workload) -> None:
    requests = workload(line("r1", "hello"), line("r2", "something else entirely"))
    assert [o.hit for o in run(ExactPolicy(), requests)] == [False, False]
    monkeypatch.setattr(nextmodel_cache.keys, "cache_key", lambda namespace, requested, body: "one-key-for-all")
    assert [o.hit for o in run(ExactPolicy(), requests)] == [False, True]


def test_exact_is_tenant_and_model_scoped_and_skips_ignored_fields(workload) -> None:
    requests = workload(
        line("r1", "hello"),
        line("r2", "hello", stream=True, user="u-1", metadata={"k": "v"}),  # ignored fields: a hit
        line("r3", "hello", tenant="t2"),  # another namespace
        line("r4", "hello", model="gpt-4.1", answer_class="b"),  # another model
        line("r5", "hello", temperature=0.5, answer_class="c"),  # a parameter is part of the key
        line("r6", "Hello"),  # text is never normalised
    )
    assert [o.hit for o in run(ExactPolicy(), requests)] == [False, True, False, False, False, False]


def test_exact_bad_hit_rate_is_zero_on_the_builtin_workload() -> None:
    requests = load_workload(builtin_workload_path())
    result = run_bench(requests, build_policies(["exact"], PolicyContext()), PriceBook.from_seed())
    exact = result.policies[0]
    assert exact.bad_hits == 0 and exact.cross_tenant_hits == 0
    assert exact.hits > 200  # repeats and ignored-field variants are served


def test_normalized_folds_whitespace_and_case_in_text_only(workload) -> None:
    body = {"model": "GPT-X", "messages": [
        {"role": "user", "content": "  Hello\n\tWORLD  "},
        {"role": "user", "content": [{"type": "text", "text": "A  B"},
                                     {"type": "image_url", "image_url": {"url": "U"}}]},
    ]}
    folded = folded_body(body)
    assert folded["model"] == "GPT-X"
    assert folded["messages"][0]["content"] == "hello world"
    assert folded["messages"][1]["content"] == [{"type": "text", "text": "a b"},
                                                {"type": "image_url", "image_url": {"url": "U"}}]
    assert body["messages"][0]["content"] == "  Hello\n\tWORLD  "  # the workload itself is untouched
    requests = workload(line("r1", "Hello  world"), line("r2", "hello world"), line("r3", "hello world", tenant="t2"))
    assert [o.hit for o in run(NormalizedPolicy(), requests)] == [False, True, False]


def test_policy_specs_expand_and_fail_clearly() -> None:
    context = PolicyContext(thresholds=(0.9,), embedder_factory=lambda: FakeEmbedder({}))
    names = [policy.name for policy in build_policies(["exact", "semantic", "semantic-conv@0.8,0.95"], context)]
    assert names == ["exact", "semantic-last@0.90", "semantic-conv@0.90", "semantic-conv@0.80", "semantic-conv@0.95"]
    with pytest.raises(PolicySpecError, match="unknown policy 'lru'"):
        build_policies(["lru"], context)
    with pytest.raises(PolicySpecError, match="listed twice"):
        build_policies(["exact", "exact"], context)
    with pytest.raises(PolicySpecError, match="no '@'"):
        build_policies(["exact@0.9"], context)
    assert needs_embeddings(["semantic"]) and not needs_embeddings(["exact", "normalized"])


def test_thresholds_parse_lists_and_ranges() -> None:
    assert parse_thresholds("0.9,0.8") == (0.8, 0.9)
    assert parse_thresholds("0.70:0.80:0.05") == (0.7, 0.75, 0.8)
    for bad in ("", "0", "1.5", "a,b", "0.9:0.8:-0.1"):
        with pytest.raises(PolicySpecError):
            parse_thresholds(bad)


def test_semantic_policies_without_the_model_fail_at_build_time() -> None:
    def missing():
        raise EmbeddingModelMissing("no model here")

    with pytest.raises(EmbeddingModelMissing):
        build_policies(["semantic-last"], PolicyContext(embedder_factory=missing))
    assert [p.name for p in build_policies(["exact"], PolicyContext(embedder_factory=missing))] == ["exact"]


def test_registering_a_policy_makes_it_available(monkeypatch, workload) -> None:
    class EverythingHits(ExactPolicy):
        kind = "always"

        def key(self, request):
            return "same"

    monkeypatch.setitem(policies_module.REGISTRY, "always",
                        policies_module.RegisteredPolicy(lambda argument, context: [EverythingHits()], "test"))
    (policy,) = build_policies(["always"], PolicyContext())
    requests = workload(line("r1", "a"), line("r2", "b", answer_class="b"))
    assert [o.verdict for o in run(policy, requests)] == [Verdict.MISS, Verdict.BAD]


# --- semantic policies with a fake embedder (numpy, no model) ------------------------------------


class FakeEmbedder:
    """Unit vectors chosen per text, so similarities are known exactly."""

    name = "fake"

    def __init__(self, vectors: dict[str, tuple[float, ...]]) -> None:
        self.vectors = vectors
        self.calls: list[list[str]] = []

    def embed(self, texts):
        import numpy as np

        self.calls.append(list(texts))
        rows = np.array([self.vectors[text] for text in texts], dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_semantic_last_serves_the_most_similar_answer_above_the_threshold(needs_numpy, workload) -> None:
    # cos(a, a') = 0.96, cos(a, b) = 0, cos(a', b) = 0.28
    embedder = FakeEmbedder({"a": (1, 0, 0), "a'": (0.96, 0.28, 0), "b": (0, 1, 0)})
    context = PolicyContext(embedder_factory=lambda: embedder)
    low, high = build_policies(["semantic-last@0.9,0.97"], context)
    requests = workload(line("r1", "a"), line("r2", "a'"), line("r3", "b", answer_class="b"),
                        line("r4", "a", tenant="t2"))
    for policy in (low, high):
        policy.prepare(requests, Progress.silent())
    below = run(low, requests)
    assert [o.verdict for o in below] == [Verdict.MISS, Verdict.SAFE, Verdict.MISS, Verdict.BAD]
    assert below[1].similarity == pytest.approx(0.96, abs=1e-6)
    assert below[3].cross_tenant  # a global store serves another tenant's answer: always a bad hit
    above = run(high, requests)
    assert [o.verdict for o in above] == [Verdict.MISS, Verdict.MISS, Verdict.MISS, Verdict.BAD]
    assert sum(len(call) for call in embedder.calls) == 3  # each distinct text embedded once for both


def test_semantic_last_ignores_system_prompt_model_and_parameters(needs_numpy, workload) -> None:
    embedder = FakeEmbedder({"q": (1, 0), "Be brief.\nq": (0.6, 0.8)})
    context = PolicyContext(embedder_factory=lambda: embedder)
    last, conv = build_policies(["semantic-last@0.95", "semantic-conv@0.95"], context)
    brief = line("r2", "q", answer_class="brief")
    brief["request"]["messages"].insert(0, {"role": "system", "content": "Be brief."})
    requests = workload(line("r1", "q"), brief, line("r3", "q", model="gpt-4.1", answer_class="4.1", n=3))
    for policy in (last, conv):
        policy.prepare(requests, Progress.silent())
    assert [o.verdict for o in run(last, requests)] == [Verdict.MISS, Verdict.BAD, Verdict.BAD]
    # The whole conversation tells the system prompt apart, not the model or parameters.
    assert [o.verdict for o in run(conv, requests)] == [Verdict.MISS, Verdict.MISS, Verdict.BAD]


def test_semantic_skips_requests_without_text(needs_numpy, workload) -> None:
    embedder = FakeEmbedder({})
    (policy,) = build_policies(["semantic-last@0.9"], PolicyContext(embedder_factory=lambda: embedder))
    image_only = {"id": "r1", "tenant": "t", "request": {"model": "m", "messages": [
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:"}}]}]}}
    requests = workload(image_only)
    policy.prepare(requests, Progress.silent())
    (outcome,) = run(policy, requests)
    assert not outcome.cacheable and not outcome.hit
