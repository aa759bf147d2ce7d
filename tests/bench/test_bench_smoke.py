"""The benchmark harness (bench/perf/run.py) in its smoke mode: a few seconds, no LiteLLM.

It must start the fake upstream and the full stack, drive them with wrk, and produce a report
whose numbers are sane and whose phases measured the path they claim to (served modes and
upstream calls verified). Performance goals are not asserted here; `make bench` reports them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
EXIT_MISSING_TOOL = 3  # bench/perf/run.py: wrk missing and not installable


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("bench") / "smoke.json"
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "perf" / "run.py"), "--smoke", "--out", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    if run.returncode == EXIT_MISSING_TOOL:
        message = f"the benchmark cannot run here: {run.stderr.strip()}"
        if IN_CI:
            pytest.fail(f"{message} (CI=true: the benchmark smoke test must run, not skip)")
        pytest.skip(message)
    assert run.returncode == 0, (f"bench smoke run failed ({run.returncode}):\n"
                                 f"{run.stdout[-4000:]}\n{run.stderr[-4000:]}")
    report = json.loads(out.read_text())
    report["_stdout"] = run.stdout
    return report


def test_the_smoke_report_names_the_machine_and_both_systems(smoke) -> None:
    assert smoke["kind"] == "smoke"
    assert set(smoke["systems"]) == {"upstream", "nextmodel"}  # no LiteLLM in the smoke run
    machine = smoke["machine"]
    assert machine["cores"] >= 1 and machine["cpu_model"] and machine["kernel"] and machine["python"]
    assert "Upstream (direct)" in smoke["_stdout"] and "NextModel" in smoke["_stdout"]


def test_every_load_phase_has_throughput_latency_and_no_errors(smoke) -> None:
    for name, system in smoke["systems"].items():
        wrk_phases = {k: v for k, v in system["phases"].items() if "rps" in v}
        expected = {"fresh_c1", "fresh_c16", "fresh_c64"} | ({"cache_c1", "cache_c16", "cache_c64"}
                                                             if name == "nextmodel" else set())
        assert set(wrk_phases) == expected, name
        for phase, result in wrk_phases.items():
            assert result["requests"] > 0 and result["rps"] > 0, (name, phase)
            assert result["errors"]["total"] == 0, (name, phase, result["errors"])
            assert 0 < result["latency_ms"]["p50"] <= result["latency_ms"]["p99"], (name, phase)
        stream = system["phases"]["stream"]
        assert stream["errors"]["total"] == 0 and stream["ttft_ms"]["n"] == stream["requests"] > 0
        assert 0 < stream["ttft_ms"]["p50"] <= stream["total_ms"]["p50"]
        assert system["rss_mb_total"] > 0


def test_served_modes_and_upstream_calls_are_verified(smoke) -> None:
    assert smoke["unverified"] == []
    phases = smoke["systems"]["nextmodel"]["phases"]
    for phase, result in phases.items():
        if "verified" in result:
            assert result["verified"], (phase, result["verify_notes"])
    for c in (1, 16, 64):
        fresh, cache = phases[f"fresh_c{c}"], phases[f"cache_c{c}"]
        assert fresh["served"]["fresh"] == fresh["requests"] and fresh["served"]["exact_cache"] == 0
        assert fresh["upstream_completions"] >= fresh["requests"]
        assert cache["served"]["exact_cache"] == cache["requests"] and cache["served"]["fresh"] == 0
        assert cache["upstream_completions"] == 0
    assert phases["stream"]["served_header"] == {"fresh": phases["stream"]["requests"]}
    assert phases["stream_cache"]["served_header"] == {"exact_cache": phases["stream_cache"]["requests"]}


def test_added_figures_are_computed_against_the_direct_upstream(smoke) -> None:
    added = smoke["added_vs_direct_upstream"]["nextmodel"]
    for key in ("latency_p50_ms", "latency_p99_ms", "stream_ttft_p50_ms", "stream_total_p50_ms"):
        assert isinstance(added[key], float), key
    upstream, gateway = (smoke["systems"][name]["phases"]["fresh_c16"]["rps"] for name in ("upstream", "nextmodel"))
    assert upstream > gateway  # the fake upstream is not the bottleneck
