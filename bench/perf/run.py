#!/usr/bin/env python3
"""NextModel vs LiteLLM's proxy vs the upstream called directly, side by side, in one run.

    python bench/perf/run.py              # the full comparison (`make bench`), a few minutes
    python bench/perf/run.py --smoke      # a few seconds, no LiteLLM (run by the test suite)
    python bench/perf/run.py --soak 300   # Fresh load at concurrency 16 for 300 s, RSS every 10 s

It starts a fast fake OpenAI-compatible upstream (bench/perf/upstream.py) and measures it alone
first, then starts each gateway in turn (NextModel's five services with billing and the exact
cache on; LiteLLM's proxy, one worker, no database, in its own venv) pointed at that upstream,
and drives each with wrk (bench/perf/chat.lua) and, for streaming, a small raw-socket client:

  - added latency at concurrency 1 (p50/p99 of Fresh requests minus the direct upstream's);
  - Fresh throughput (distinct prompts, all misses) at concurrency 16 and 64, with errors;
  - exact-cache hit latency (concurrency 1) and throughput (16, 64);
  - streaming: added time to first `data:` line and added total time (sequential);
  - resident memory (VmRSS summed over each system's processes) after the run.

Every phase checks what it measured: each response's x-nextmodel-served-mode is counted by the
wrk script, and the upstream's own counter shows whether a phase reached it (Fresh) or not
(cache hits). The table goes to stdout; JSON with the machine description goes to
bench/perf/results/latest.json (full run), with ratios against LiteLLM from the same run.

CPU layout (2-core box, `--layout split`, the default): each system under test is pinned to
CPU 0; wrk, the fake upstream, the streaming client and this harness to CPU 1. Every gateway
gets the same single core; `--layout shared` pins nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import systems  # noqa: E402
from streamclient import Client  # noqa: E402
from systems import MODEL, MissingTool, System  # noqa: E402

RESULTS = HERE / "results"
EXIT_MISSING_TOOL = 3
EXIT_UNVERIFIED = 2
CLK_TCK = os.sysconf("SC_CLK_TCK")
NOISY_PERCENT = 15.0  # a phase with more foreign CPU than this (percent of one core) is flagged


@dataclass
class Plan:
    warmup: int = 3  # seconds of Fresh load at c=16 before a system's measured phases (not recorded)
    latency: int = 20  # seconds at concurrency 1 (Fresh)
    throughput: int = 15  # seconds per Fresh throughput phase
    cache_latency: int = 10
    cache_throughput: int = 10
    stream_requests: int = 300
    concurrency: tuple[int, ...] = (16, 64)


SMOKE = Plan(warmup=0, latency=1, throughput=1, cache_latency=1, cache_throughput=1, stream_requests=20)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    rank = q / 100 * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def fresh_body(nonce: str, index: int, stream: bool) -> bytes:
    prompt = f"Benchmark stream prompt {nonce}-{index}: what is a gateway?"
    body: dict = {"model": MODEL, "temperature": 0, "messages": [{"role": "user", "content": prompt}]}
    if stream:
        body.update(stream=True, stream_options={"include_usage": True})
    return json.dumps(body, separators=(",", ":")).encode()


def same_body(nonce: str) -> bytes:
    """Byte for byte the body chat.lua sends in "same" mode."""
    return ('{"model":"%s","temperature":0,"messages":[{"role":"user","content":'  # noqa: UP031 - the same template as chat.lua's
            '"Benchmark exact-cache prompt %s: what is a gateway?"}]}' % (MODEL, nonce)).encode()


# -- phases ----------------------------------------------------------------------------------------

class Runner:
    def __init__(self, plan: Plan, layout: dict, upstream: systems.Upstream) -> None:
        self.plan = plan
        self.layout = layout
        self.upstream = upstream
        self.unverified: list[str] = []
        self.noisy: list[str] = []
        self.retries = 0

    def settle(self, quiet: float = 0.3, limit: float = 10.0) -> None:
        """Wait until the upstream has seen no call for `quiet` seconds: requests a gateway still
        had in flight when the previous phase's load generator stopped must not count in this one."""
        deadline = time.monotonic() + limit
        last, changed = self.upstream.stats(), time.monotonic()
        while time.monotonic() - changed < quiet and time.monotonic() < deadline:
            time.sleep(0.05)
            current = self.upstream.stats()
            if current != last:
                last, changed = current, time.monotonic()

    def _snapshot(self, system: System) -> dict:
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk, once it has been waited for
        return {"cpu": systems.cpu_times(), "sut": system.cpu_seconds(), "up_cpu": self.upstream.cpu_seconds(),
                "up": self.upstream.stats(), "t": time.monotonic(),
                "driver": own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime}

    def _accounting(self, system: System, before: dict, after: dict, requests: int) -> dict:
        cpu = {}
        for name, (busy, total) in after["cpu"].items():
            b0, t0 = before["cpu"].get(name, (0, 0))
            cpu[name] = round(100.0 * (busy - b0) / max(1, total - t0), 1)
        # CPU used by processes that are not part of the benchmark (other work on the machine):
        # all busy CPU time minus the system under test, the upstream, wrk and this harness.
        wall = max(1e-9, after["t"] - before["t"])
        busy = sum(after["cpu"][n][0] - before["cpu"].get(n, (0, 0))[0] for n in after["cpu"]) / CLK_TCK
        known = (sum(after["sut"].values()) - sum(before["sut"].values()) + after["driver"] - before["driver"])
        if system is not self.upstream:
            known += after["up_cpu"]["upstream"] - before["up_cpu"]["upstream"]
        foreign = max(0.0, busy - known)
        per_request = {}
        if requests:
            for name, seconds in after["sut"].items():
                per_request[name] = round((seconds - before["sut"].get(name, 0.0)) * 1e6 / requests, 1)
        return {
            "cpu_util_percent": cpu,
            "foreign_cpu_percent": round(100.0 * foreign / wall, 1),  # percent of one core
            "sut_cpu_us_per_request": per_request,
            "upstream_cpu_us_per_request": round((after["up_cpu"]["upstream"] - before["up_cpu"]["upstream"])
                                                 * 1e6 / requests, 1) if requests else None,
            "upstream_completions": after["up"].get("completions", 0) - before["up"].get("completions", 0),
            "upstream_streams": after["up"].get("streams", 0) - before["up"].get("streams", 0),
        }

    def wrk(self, system: System, phase: str, mode: str, concurrency: int, seconds: int, nonce: str,
            expect: str | None) -> dict:
        self.settle()
        before = self._snapshot(system)
        command = [systems.WRK, "-t1", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "30s",
                   "-s", str(HERE / "chat.lua"), f"{system.base_url}/chat/completions",
                   "--", mode, nonce, MODEL, system.api_key]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        after = self._snapshot(system)
        line = next((line for line in done.stdout.splitlines() if line.startswith("WRKJSON ")), None)
        if done.returncode != 0 or line is None:
            raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout[-2000:]} {done.stderr[-2000:]}")
        raw = json.loads(line[len("WRKJSON "):])
        requests = raw["requests"]
        errors = dict(raw["errors"])
        responses = raw["responses"]
        errors["non_200"] = responses["non_200"]
        errors["total"] = (errors["connect"] + errors["read"] + errors["write"] + errors["timeout"]
                           + responses["non_200"])
        latency = {k: round(v / 1000.0, 3) for k, v in raw["latency_us"].items()}
        result = {
            "phase": phase, "mode": mode, "concurrency": concurrency, "seconds": seconds,
            "requests": requests, "rps": round(requests / (raw["duration_us"] / 1e6), 1),
            "errors": errors, "latency_ms": latency, "served": responses,
            **self._accounting(system, before, after, requests),
        }
        result["verified"], result["verify_notes"] = self._verify(system, result, expect)
        return result

    def phase(self, system: System, run) -> dict:
        """Run one measured phase (run(attempt) -> result); on a busy machine, retry it up to
        `retries` times and keep the attempt that other processes disturbed least."""
        best: dict | None = None
        result: dict = {}
        for attempt in range(1 + self.retries):
            if attempt:
                log(f"  phase disturbed by other processes ({result['foreign_cpu_percent']:.0f}% of a core); "
                    f"retry {attempt}/{self.retries}")
                wait_quiet(30.0, quiet_log=True)
            result = run(attempt)
            result["attempt"] = attempt + 1
            if best is None or result["foreign_cpu_percent"] < best["foreign_cpu_percent"]:
                best = result
            if best["foreign_cpu_percent"] <= NOISY_PERCENT:
                break
        assert best is not None
        if not best["verified"]:
            self.unverified.append(f"{system.name}/{best['phase']}: {'; '.join(best['verify_notes'])}")
        if best["foreign_cpu_percent"] > NOISY_PERCENT:
            self.noisy.append(f"{system.name}/{best['phase']}: other processes used "
                              f"{best['foreign_cpu_percent']:.0f}% of a core")
        return best

    def _verify(self, system: System, result: dict, expect: str | None) -> tuple[bool, list[str]]:
        notes: list[str] = []
        requests, served = result["requests"], result["served"]
        if requests == 0:
            notes.append("no request completed")
        if system.served_mode_header and expect:
            wrong = requests - served.get(expect, 0)
            if wrong:
                notes.append(f"{wrong} of {requests} answers were not served as {expect} "
                             f"(fresh={served.get('fresh', 0)} exact_cache={served.get('exact_cache', 0)} "
                             f"no header={served.get('no_mode_header', 0)})")
        calls = result["upstream_completions"] + result["upstream_streams"]
        if expect == "fresh":
            # every fresh answer is one upstream call; wrk stops with up to `concurrency` calls in flight
            ok = requests - result["errors"]["total"] <= calls <= requests + result["concurrency"] + 2
            if not ok:
                notes.append(f"upstream saw {calls} calls for {requests} fresh answers")
        elif expect == "exact_cache" and calls:
            notes.append(f"upstream saw {calls} calls during a cache-hit phase")
        return not notes, notes

    def prime_cache(self, system: System, body: bytes) -> dict:
        """Send the cache phase's body until it is answered from the exact cache."""
        client = Client(system.base_url, system.api_key)
        try:
            for attempt in range(100):
                answer = client.post("/chat/completions", body)
                if answer.status != 200:
                    raise RuntimeError(f"priming the cache got HTTP {answer.status}: {answer.body[:300]!r}")
                if answer.headers.get("x-nextmodel-served-mode") == "exact_cache":
                    return {"attempts": attempt + 1}
                time.sleep(0.02)
        finally:
            client.close()
        raise RuntimeError("the exact cache never answered the priming body (is the cache on?)")

    def stream(self, system: System, phase: str, count: int, nonce: str, expect: str | None,
               same: bool = False) -> dict:
        client = Client(system.base_url, system.api_key)
        ttft, total, statuses, served, problems = [], [], {}, {}, []
        self.settle()
        before = self._snapshot(system)
        try:
            for index in range(-5 if not same else 0, count):  # 5 unrecorded warm-up streams
                body = fresh_body(f"{nonce}-c" if same else nonce, 0 if same else index, stream=True)
                answer = client.post("/chat/completions", body)
                if index < 0:
                    before = self._snapshot(system)
                    continue
                statuses[answer.status] = statuses.get(answer.status, 0) + 1
                mode = answer.headers.get("x-nextmodel-served-mode", "none")
                served[mode] = served.get(mode, 0) + 1
                if answer.status != 200 or answer.first_data_s is None or b"[DONE]" not in answer.body:
                    if len(problems) < 3:
                        problems.append(f"HTTP {answer.status}: {answer.body[:200]!r}")
                    continue
                ttft.append(answer.first_data_s * 1000)
                total.append(answer.total_s * 1000)
        finally:
            client.close()
        after = self._snapshot(system)
        requests = sum(statuses.values())
        errors = requests - len(ttft)
        result = {
            "phase": phase, "requests": requests, "errors": {"total": errors, "problems": problems},
            "statuses": {str(k): v for k, v in statuses.items()}, "served_header": served,
            "ttft_ms": _summary(ttft), "total_ms": _summary(total),
            **self._accounting(system, before, after, requests),
        }
        notes = []
        if system.served_mode_header and expect and served.get(expect, 0) != requests:
            notes.append(f"served modes {served}, expected all {expect}")
        streams = result["upstream_streams"]
        if expect == "fresh" and streams != requests:
            notes.append(f"upstream saw {streams} streams for {requests} fresh streams")
        if expect == "exact_cache" and streams:
            notes.append(f"upstream saw {streams} streams during cache replay")
        if errors:
            notes.append(f"{errors} streams failed: {problems}")
        result["verified"], result["verify_notes"] = not notes, notes
        return result

    def measure(self, system: System) -> dict:
        plan = self.plan
        nonce = uuid.uuid4().hex[:10]
        phases: dict[str, dict] = {}
        expect_fresh = "fresh"
        started = time.monotonic()
        if plan.warmup:
            log(f"{system.label}: warm-up {plan.warmup}s")
            self.wrk(system, "warmup", "fresh", 16, plan.warmup, nonce + "w", None)
        log(f"{system.label}: latency at concurrency 1, {plan.latency}s")
        phases["fresh_c1"] = self.phase(system, lambda a: self.wrk(
            system, "fresh_c1", "fresh", 1, plan.latency, f"{nonce}l{a}", expect_fresh))
        for c in plan.concurrency:
            log(f"{system.label}: Fresh throughput at concurrency {c}, {plan.throughput}s")
            phases[f"fresh_c{c}"] = self.phase(system, lambda a, c=c: self.wrk(
                system, f"fresh_c{c}", "fresh", c, plan.throughput, f"{nonce}f{c}{a}", expect_fresh))
        if system.has_cache:
            cache_nonce = nonce + "x"
            phases["cache_prime"] = self.prime_cache(system, same_body(cache_nonce))
            log(f"{system.label}: exact-cache hits at concurrency 1, {plan.cache_latency}s")
            phases["cache_c1"] = self.phase(system, lambda a: self.wrk(
                system, "cache_c1", "same", 1, plan.cache_latency, cache_nonce, "exact_cache"))
            for c in plan.concurrency:
                log(f"{system.label}: exact-cache hits at concurrency {c}, {plan.cache_throughput}s")
                phases[f"cache_c{c}"] = self.phase(system, lambda a, c=c: self.wrk(
                    system, f"cache_c{c}", "same", c, plan.cache_throughput, cache_nonce, "exact_cache"))
        log(f"{system.label}: {plan.stream_requests} sequential streams")
        phases["stream"] = self.phase(system, lambda a: self.stream(
            system, "stream", plan.stream_requests, f"{nonce}s{a}", expect_fresh))
        if system.has_cache:
            phases["stream_cache_prime"] = self.prime_cache(system, fresh_body(nonce + "s-c", 0, stream=True))
            phases["stream_cache"] = self.phase(system, lambda a: self.stream(
                system, "stream_cache", plan.stream_requests, nonce + "s", "exact_cache", same=True))
        rss = system.rss_kb()
        return {"label": system.label, "phases": phases, "rss_kb": rss,
                "rss_mb_total": round(sum(rss.values()) / 1024, 1),
                "pins": {name: systems.allowed_cpus(pid) for name, pid in system.pids.items()},
                "seconds": round(time.monotonic() - started, 1)}


def _summary(samples: list[float]) -> dict:
    if not samples:
        return {"n": 0}
    return {"n": len(samples), "p50": round(percentile(samples, 50), 3), "p90": round(percentile(samples, 90), 3),
            "p99": round(percentile(samples, 99), 3), "mean": round(sum(samples) / len(samples), 3),
            "max": round(max(samples), 3)}


# -- derived figures -------------------------------------------------------------------------------

GOALS = {
    "fresh_vs_litellm": 5.0,
    "added_p50_ms": 3.0,
    "added_p99_ms": 10.0,
    "cache_vs_litellm_fresh": 10.0,
}


def _get(result: dict, *path, default=None):
    for key in path:
        if not isinstance(result, dict) or key not in result:
            return default
        result = result[key]
    return result


def derive(report: dict, plan: Plan) -> None:
    results = report["systems"]
    direct = results.get("upstream", {}).get("phases", {})
    added: dict[str, dict] = {}
    for name, result in results.items():
        if name == "upstream":
            continue
        phases = result["phases"]
        entry: dict = {}
        for q in ("p50", "p99"):
            entry[f"latency_{q}_ms"] = _diff(_get(phases, "fresh_c1", "latency_ms", q),
                                             _get(direct, "fresh_c1", "latency_ms", q))
            entry[f"stream_ttft_{q}_ms"] = _diff(_get(phases, "stream", "ttft_ms", q),
                                                 _get(direct, "stream", "ttft_ms", q))
            entry[f"stream_total_{q}_ms"] = _diff(_get(phases, "stream", "total_ms", q),
                                                  _get(direct, "stream", "total_ms", q))
            entry[f"cache_stream_ttft_{q}_ms"] = _diff(_get(phases, "stream_cache", "ttft_ms", q),
                                                       _get(direct, "stream", "ttft_ms", q))
        added[name] = entry
    report["added_vs_direct_upstream"] = added

    ratios: dict[str, dict] = {}
    litellm = results.get("litellm")
    for name, result in results.items():
        if name in ("upstream", "litellm") or litellm is None:
            continue
        phases, other = result["phases"], litellm["phases"]
        entry = {}
        for c in plan.concurrency:
            entry[f"fresh_c{c}_throughput"] = _ratio(_get(phases, f"fresh_c{c}", "rps"),
                                                     _get(other, f"fresh_c{c}", "rps"))
            entry[f"cache_c{c}_throughput_vs_litellm_fresh"] = _ratio(_get(phases, f"cache_c{c}", "rps"),
                                                                      _get(other, f"fresh_c{c}", "rps"))
        entry["litellm_added_p50_over_ours"] = _ratio(added["litellm"].get("latency_p50_ms"),
                                                      added[name].get("latency_p50_ms"))
        entry["rss_ours_over_litellm"] = _ratio(result["rss_mb_total"], litellm["rss_mb_total"])
        ratios[name] = entry
    report["ratios_vs_litellm"] = ratios

    goals = []
    for name, result in results.items():
        if name in ("upstream", "litellm"):
            continue
        phases = result["phases"]
        for c in plan.concurrency:
            value = _get(ratios, name, f"fresh_c{c}_throughput")
            goals.append(_goal(name, f"Fresh throughput c={c} vs LiteLLM", value, ">=", GOALS["fresh_vs_litellm"], "x"))
        for q in ("p50", "p99"):
            goals.append(_goal(name, f"added latency c=1 {q}", added[name][f"latency_{q}_ms"], "<=",
                               GOALS[f"added_{q}_ms"], "ms"))
        for c in plan.concurrency:
            value = _get(ratios, name, f"cache_c{c}_throughput_vs_litellm_fresh")
            goals.append(_goal(name, f"cache-hit throughput c={c} vs LiteLLM Fresh", value, ">=",
                               GOALS["cache_vs_litellm_fresh"], "x"))
        top = max(plan.concurrency)
        errors = sum(_get(phases, p, "errors", "total", default=0) or 0 for p in (f"fresh_c{top}", f"cache_c{top}"))
        goals.append(_goal(name, f"errors at c={top} (Fresh + cache)", errors, "<=", 0, ""))
    report["goals"] = goals


def _diff(a, b):
    return None if a is None or b is None else round(a - b, 3)


def _ratio(a, b):
    return None if a is None or not b else round(a / b, 2)


def _goal(system: str, name: str, value, op: str, target: float, unit: str) -> dict:
    passed = None if value is None else (value >= target if op == ">=" else value <= target)
    return {"system": system, "goal": name, "value": value, "target": f"{op} {target:g}{unit}", "pass": passed}


# -- output ----------------------------------------------------------------------------------------

def _fmt(value, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"


def render(report: dict) -> str:
    """The comparison table. Upstream (direct) shows absolute figures in parentheses where the
    gateways show figures added to it."""
    results = report["systems"]
    names = list(results)
    labels = [results[n]["label"] for n in names]
    added = report.get("added_vs_direct_upstream", {})
    rows: list[tuple[str, list[str]]] = []

    def row(title: str, cell) -> None:
        rows.append((title, [cell(name, results[name]["phases"]) for name in names]))

    def pair(a, b, digits: int) -> str:
        return "-" if a is None and b is None else f"{_fmt(a, digits)} / {_fmt(b, digits)}"

    def added_pair(metric: str, phase: str, field: str):
        """p50 / p99 added over the direct upstream; the upstream's own absolute figures."""
        def cell(name: str, phases: dict) -> str:
            if name == "upstream":
                return f"({pair(_get(phases, phase, field, 'p50'), _get(phases, phase, field, 'p99'), 3)})"
            mine = added.get(name, {})
            return pair(mine.get(f"{metric}_p50_ms"), mine.get(f"{metric}_p99_ms"), 3)
        return cell

    def phase_value(phase: str, *path, digits: int = 0):
        return lambda name, phases: _fmt(_get(phases, phase, *path), digits) if phase in phases else "n/a"

    def phase_pair(phase: str, field: str, digits: int):
        return lambda name, phases: (pair(_get(phases, phase, field, "p50"), _get(phases, phase, field, "p99"), digits)
                                     if phase in phases else "n/a")

    row("added latency c=1, p50 / p99 ms", added_pair("latency", "fresh_c1", "latency_ms"))
    row("  requests measured at c=1", phase_value("fresh_c1", "requests"))
    for c in report["plan"]["concurrency"]:
        row(f"Fresh throughput c={c}, req/s", phase_value(f"fresh_c{c}", "rps"))
        row("  errors", phase_value(f"fresh_c{c}", "errors", "total"))
        row("  latency p50 / p99 ms", phase_pair(f"fresh_c{c}", "latency_ms", 1))
    row("exact-cache hit latency c=1, p50 / p99 ms", phase_pair("cache_c1", "latency_ms", 3))
    for c in report["plan"]["concurrency"]:
        row(f"exact-cache hit throughput c={c}, req/s", phase_value(f"cache_c{c}", "rps"))
        row("  errors", phase_value(f"cache_c{c}", "errors", "total"))
    row("stream added TTFT, p50 / p99 ms", added_pair("stream_ttft", "stream", "ttft_ms"))
    row("stream added total time, p50 / p99 ms", added_pair("stream_total", "stream", "total_ms"))
    row("cached stream replay TTFT, p50 / p99 ms", phase_pair("stream_cache", "ttft_ms", 3))
    row("RSS after the run, MB (all processes)", lambda name, phases: _fmt(results[name]["rss_mb_total"], 1))
    row("CPU per Fresh request at c=16, us",
        lambda name, phases: _fmt(round(sum((_get(phases, "fresh_c16", "sut_cpu_us_per_request") or {}).values())))
        if "fresh_c16" in phases else "-")
    row("other processes' CPU, max % of a core",
        lambda name, phases: _fmt(max((ph.get("foreign_cpu_percent", 0) for ph in phases.values()), default=0), 0))
    row("phases verified",
        lambda name, phases: "yes" if all(ph.get("verified", True) for ph in phases.values()) else "NO")

    width = max(len(title) for title, _ in rows) + 2
    columns = [max(len(label), *(len(cells[i]) for _, cells in rows)) + 2 for i, label in enumerate(labels)]
    m = report["machine"]
    layout = report["layout"]
    lines = [f"NextModel vs LiteLLM, {report['generated_at']}: {m['cpu_model']}, {m['cores']} cores, "
             f"{m['memory_gb']} GB, Linux {m['kernel']}, Python {m['python']}, NextModel {m['nextmodel']['version']} "
             f"({m['nextmodel']['commit']}{'+dirty' if m['nextmodel']['dirty'] else ''})"
             + (f", LiteLLM {m['litellm']}" if m.get("litellm") else ""),
             f"layout {layout['name']}: systems under test on CPU {','.join(map(str, layout['sut']))}, "
             f"wrk + fake upstream on CPU {','.join(map(str, layout['driver']))}; load: wrk -t1; "
             f"streams: sequential client", ""]
    lines.append("".ljust(width) + "".join(label.rjust(columns[i]) for i, label in enumerate(labels)))
    lines.append("-" * len(lines[-1]))
    for title, cells in rows:
        lines.append(title.ljust(width) + "".join(cell.rjust(columns[i]) for i, cell in enumerate(cells)))
    if report.get("ratios_vs_litellm"):
        lines.append("")
        lines.append("Ratios against LiteLLM (same run):")
        for name, entry in report["ratios_vs_litellm"].items():
            for key, value in entry.items():
                lines.append(f"  {results[name]['label']}: {key} = {_fmt(value)}")
    if report.get("goals"):
        lines.append("")
        lines.append("Goals:")
        for goal in report["goals"]:
            mark = {True: "PASS", False: "FAIL", None: "n/a "}[goal["pass"]]
            value = goal["value"]
            lines.append(f"  [{mark}] {results[goal['system']]['label']}: {goal['goal']}: "
                         f"{_fmt(value) if value is not None else 'not measured'} (goal {goal['target']})")
    return "\n".join(lines)


def machine() -> dict:
    def first(path: str, prefix: str) -> str:
        try:
            with open(path) as handle:
                for line in handle:
                    if line.startswith(prefix):
                        return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return "?"

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=systems.ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    try:
        import importlib.metadata as metadata
        nextmodel_version = metadata.version("nextmodel")
    except Exception:
        nextmodel_version = "?"
    os_name = "?"
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    mem_kb = first("/proc/meminfo", "MemTotal")
    return {
        "cpu_model": first("/proc/cpuinfo", "model name"),
        "cores": os.cpu_count(),
        "memory_gb": round(int(mem_kb.split()[0]) / 1024 / 1024, 1) if mem_kb != "?" else None,
        "kernel": platform.release(),
        "os": os_name,
        "python": platform.python_version(),
        "nextmodel": {"version": nextmodel_version, "commit": git("rev-parse", "--short", "HEAD"),
                      "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))},
        "wrk": systems.wrk_version(),
    }


# -- modes -----------------------------------------------------------------------------------------

def run_compare(args, plan: Plan) -> int:
    layout = systems.cpu_layout(args.layout)
    os.sched_setaffinity(0, layout["driver"])  # this harness, wrk and the stream client
    workdir = Path(tempfile.mkdtemp(prefix="nextmodel-bench-", dir=systems.SCRATCH))
    started = time.monotonic()
    report: dict = {
        "schema": 1, "kind": "smoke" if args.smoke else "compare",
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(), "layout": layout,
        "plan": {**plan.__dict__, "concurrency": list(plan.concurrency)},
        "nextmodel_env": nextmodel_env(args),
        "load_generator": "wrk -t1 with bench/perf/chat.lua; streams: bench/perf/streamclient.py (sequential)",
        "systems": {},
    }
    if not args.smoke and not args.no_litellm:
        systems.ensure_litellm()
        report["machine"]["litellm"] = systems.litellm_version()
    report["background_cpu_percent_at_start"] = wait_quiet(args.wait_quiet)
    log(f"layout {layout['name']}: system under test on CPU {layout['sut']}, "
        f"wrk + upstream + harness on CPU {layout['driver']}")
    upstream = systems.Upstream(layout["driver"], args.stream_gap_ms, workdir / "upstream.log")
    runner = Runner(plan, layout, upstream)
    runner.retries = args.retry_noisy if args.retry_noisy is not None else (0 if args.smoke else 2)
    try:
        log(f"fake upstream on {upstream.base_url}: measuring it alone first")
        report["systems"]["upstream"] = runner.measure(upstream)
        extra = nextmodel_env(args)
        gateways = [("nextmodel", lambda: systems.NextModel(upstream.base_url, layout["sut"], workdir / "nextmodel",
                                                             extra_env=extra))]
        if args.redis:
            gateways.append(("nextmodel_redis", lambda: systems.NextModel(
                upstream.base_url, layout["sut"], workdir / "nextmodel-redis", redis_url=args.redis,
                name="nextmodel_redis", label="NextModel+Redis", extra_env=extra)))
        if not args.smoke and not args.no_litellm:
            gateways.append(("litellm", lambda: systems.LiteLLM(upstream.base_url, layout["sut"], workdir / "litellm",
                                                                 _free_port())))
        for name, start in gateways:
            log(f"starting {name} ...")
            system = start()
            try:
                report["systems"][name] = runner.measure(system)
                if hasattr(system, "stack"):
                    report["systems"][name]["log_lines"] = len(system.stack.log)
            except Exception:
                tail = getattr(system, "log_tail", lambda: "")()
                log(f"{name} failed; last log lines:\n{tail}")
                raise
            finally:
                system.stop()
        report["systems"]["upstream"]["rss_kb_end"] = upstream.rss_kb()
    finally:
        upstream.stop()
    shutil.rmtree(workdir, ignore_errors=True)  # kept (with the services' logs) only when a run fails
    report["seconds"] = round(time.monotonic() - started, 1)
    report["unverified"] = runner.unverified
    report["noisy_phases"] = runner.noisy
    derive(report, plan)
    table = render(report)
    print()
    print(table)
    print()
    out = Path(args.out) if args.out else (systems.SCRATCH / "smoke.json" if args.smoke else RESULTS / "latest.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    out.with_suffix(".txt").write_text(table + "\n")
    log(f"{'smoke' if args.smoke else 'full'} run took {report['seconds']:.0f}s; "
        f"results in {out} and {out.with_suffix('.txt')}")
    if runner.noisy:
        log("WARNING: other processes competed for the CPU during these phases; their numbers are "
            "unreliable:\n  " + "\n  ".join(runner.noisy))
    if runner.unverified:
        log("NOT VERIFIED (the run may have measured the wrong path):\n  " + "\n  ".join(runner.unverified))
        return EXIT_UNVERIFIED
    return 0


def run_soak(args, plan: Plan) -> int:
    seconds = args.soak
    layout = systems.cpu_layout(args.layout)
    os.sched_setaffinity(0, layout["driver"])
    workdir = Path(tempfile.mkdtemp(prefix="nextmodel-soak-", dir=systems.SCRATCH))
    background = wait_quiet(args.wait_quiet)
    upstream = systems.Upstream(layout["driver"], args.stream_gap_ms, workdir / "upstream.log")
    samples: list[dict] = []
    try:
        system = systems.NextModel(upstream.base_url, layout["sut"], workdir / "nextmodel",
                                   extra_env=nextmodel_env(args))
        runner = Runner(plan, layout, upstream)
        try:
            log(f"soak: warm-up {plan.warmup}s, then Fresh c=16 for {seconds}s, RSS every {args.sample_every}s")
            runner.wrk(system, "warmup", "fresh", 16, max(plan.warmup, 3), uuid.uuid4().hex[:10], None)
            nonce = uuid.uuid4().hex[:10]
            runner.settle()
            before = runner._snapshot(system)
            wrk = subprocess.Popen([systems.WRK, "-t1", "-c16", f"-d{seconds}s", "--timeout", "30s", "-s",
                                    str(HERE / "chat.lua"), f"{system.base_url}/chat/completions",
                                    "--", "fresh", nonce, MODEL, system.api_key],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            t0 = time.monotonic()
            while True:
                rss = system.rss_kb()
                samples.append({"t": round(time.monotonic() - t0, 1), "rss_kb": rss,
                                "total_mb": round(sum(rss.values()) / 1024, 1),
                                "upstream_completions": upstream.stats().get("completions")})
                log(f"soak t={samples[-1]['t']:>5}s  RSS {samples[-1]['total_mb']} MB  "
                    + " ".join(f"{k}={v // 1024}" for k, v in rss.items()))
                if wrk.poll() is not None:
                    break
                time.sleep(min(args.sample_every, max(0.1, seconds + 1 - (time.monotonic() - t0))))
            stdout, stderr = wrk.communicate()
            after = runner._snapshot(system)
        finally:
            system.stop()
    finally:
        upstream.stop()
    line = next((line for line in stdout.splitlines() if line.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {stdout[-1000:]} {stderr[-1000:]}")
    shutil.rmtree(workdir, ignore_errors=True)
    raw = json.loads(line[len("WRKJSON "):])
    totals = [s["total_mb"] for s in samples]
    mid = samples[len(samples) // 2]["total_mb"]
    growth_second_half = round(totals[-1] - mid, 1)
    stable = growth_second_half <= max(0.05 * mid, 10.0)
    per_process = {}
    half_minutes = max(1e-9, samples[-1]["t"] - samples[len(samples) // 2]["t"]) / 60
    for name in samples[0]["rss_kb"]:
        series = [s["rss_kb"][name] / 1024 for s in samples]
        middle = series[len(series) // 2]
        per_process[name] = {"start": round(series[0], 1), "mid": round(middle, 1), "end": round(series[-1], 1),
                             "peak": round(max(series), 1), "growth_second_half": round(series[-1] - middle, 1),
                             "mb_per_minute_second_half": round((series[-1] - middle) / half_minutes, 2)}
    errors = raw["errors"]
    error_total = errors["connect"] + errors["read"] + errors["write"] + errors["timeout"] + raw["responses"]["non_200"]
    others = {name: figures for name, figures in per_process.items() if name != "cache"}
    others_mid = sum(f["mid"] for f in others.values())
    others_growth = round(sum(f["growth_second_half"] for f in others.values()), 1)
    others_stable = others_growth <= max(0.05 * others_mid, 10.0)
    report = {
        "schema": 1, "kind": "soak", "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(), "layout": layout, "seconds": seconds, "concurrency": 16,
        "requests": raw["requests"], "rps": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
        "errors": {**errors, "non_200": raw["responses"]["non_200"], "total": error_total},
        "served": raw["responses"], "latency_ms": {k: round(v / 1000, 3) for k, v in raw["latency_us"].items()},
        **runner._accounting(system, before, after, raw["requests"]),
        "background_cpu_percent_at_start": background,
        "rss_mb": {"start": totals[0], "mid": mid, "end": totals[-1], "peak": max(totals),
                   "growth_second_half": growth_second_half},
        "rss_mb_per_process": per_process,
        "nextmodel_env": nextmodel_env(args),
        "stable": stable,
        # the same rule on every process but the cache, whose bounded store grows until it is full
        "stable_excluding_cache": others_stable,
        "stable_rule": "RSS growth over the second half of the soak <= max(5% of the mid-point RSS, 10 MB)",
        "samples": samples,
    }
    print()
    print(f"Soak: NextModel, Fresh c=16 for {seconds}s: {report['rps']:,.0f} req/s, {report['requests']:,} requests, "
          f"{error_total} errors, served {raw['responses'].get('fresh', 0):,} fresh")
    print(f"RSS MB (5 processes): start {totals[0]}  mid {mid}  end {totals[-1]}  peak {max(totals)}  "
          f"growth in 2nd half {growth_second_half}  -> {'STABLE' if stable else 'GROWING'}")
    for name, figures in per_process.items():
        print(f"  {name:<8} start {figures['start']:>6}  end {figures['end']:>6}  peak {figures['peak']:>6}  "
              f"2nd half {figures['growth_second_half']:+.1f} MB ({figures['mb_per_minute_second_half']:+.2f} MB/min)")
    print(f"  all but the cache: growth in 2nd half {others_growth:+.1f} MB -> "
          f"{'STABLE' if others_stable else 'GROWING'}")
    if "cache" in per_process and per_process["cache"]["growth_second_half"] > 1:
        print("  (the in-process exact cache keeps every Fresh answer until NEXTMODEL_CACHE_MEMORY_BYTES, 256 MB by "
              "default; --cache-memory-mb N bounds it lower to see whether growth levels off)")
    out = Path(args.out) if args.out else RESULTS / "soak.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    log(f"soak results in {out}")
    return 0


def nextmodel_env(args) -> dict[str, str]:
    """NextModel settings the command line changes (recorded in the report)."""
    env = {}
    if args.cache_memory_mb:
        env["NEXTMODEL_CACHE_MEMORY_BYTES"] = str(args.cache_memory_mb * 1024 * 1024)
    return env


def background_cpu(seconds: float = 2.0) -> float:
    """Busy CPU on the whole machine over a short idle window, in percent of one core."""
    before = systems.cpu_times()
    time.sleep(seconds)
    after = systems.cpu_times()
    busy = sum(after[n][0] - before.get(n, (0, 0))[0] for n in after) / CLK_TCK
    return round(100.0 * busy / seconds, 1)


def wait_quiet(limit: float, quiet_log: bool = False) -> float:
    """Measure the machine's background load; with limit > 0 wait up to `limit` seconds for it to drop."""
    load = background_cpu()
    deadline = time.monotonic() + limit
    while load > NOISY_PERCENT and time.monotonic() < deadline:
        if not quiet_log:
            log(f"the machine is busy ({load:.0f}% of a core used by other processes); waiting for it to quieten")
        load = background_cpu(5.0)
    if load > NOISY_PERCENT and not quiet_log:
        log(f"WARNING: other processes use {load:.0f}% of a core; results will be noisy "
            "(see foreign_cpu_percent per phase in the JSON)")
    return load


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="a few seconds, no LiteLLM (the test suite runs this)")
    parser.add_argument("--soak", type=int, metavar="SECONDS", help="soak mode: Fresh c=16 for SECONDS, RSS samples")
    parser.add_argument("--sample-every", type=float, default=10.0, help="soak: seconds between RSS samples")
    parser.add_argument("--no-litellm", action="store_true", help="skip LiteLLM (quicker iterations on NextModel)")
    parser.add_argument("--redis", metavar="URL", help="also run NextModel with NEXTMODEL_REDIS_URL=URL")
    parser.add_argument("--cache-memory-mb", type=int, metavar="MB",
                        help="NEXTMODEL_CACHE_MEMORY_BYTES for NextModel's in-process cache (default: its own, 256 MB)")
    parser.add_argument("--layout", choices=("split", "shared"), default="split", help="CPU pinning (see above)")
    parser.add_argument("--latency-seconds", type=int, help="seconds of the concurrency-1 phase")
    parser.add_argument("--seconds", type=int, help="seconds of each throughput phase")
    parser.add_argument("--stream-requests", type=int, help="sequential streams per system")
    parser.add_argument("--stream-gap-ms", type=float, default=1.0, help="upstream pause between stream chunks")
    parser.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                        help="wait up to SECONDS for other processes to stop using the CPU before starting")
    parser.add_argument("--retry-noisy", type=int, metavar="N",
                        help="rerun a phase up to N times when other processes disturbed it, keeping the quietest "
                             "attempt (default 2; smoke: 0)")
    parser.add_argument("--out", help="where to write the JSON (default bench/perf/results/latest.json; "
                                      "smoke: .bench/smoke.json; soak: bench/perf/results/soak.json)")
    args = parser.parse_args(argv)
    # stop the systems it started (the finally blocks) on SIGTERM as on Ctrl-C
    signal.signal(signal.SIGTERM, _interrupt)
    plan = SMOKE if args.smoke else Plan()
    if args.latency_seconds:
        plan.latency = args.latency_seconds
    if args.seconds:
        plan.throughput = plan.cache_throughput = args.seconds
        plan.cache_latency = max(1, min(plan.cache_latency, args.seconds))
    if args.stream_requests:
        plan.stream_requests = args.stream_requests
    systems.SCRATCH.mkdir(exist_ok=True)
    try:
        if not sys.platform.startswith("linux"):
            raise MissingTool("the benchmark reads /proc and pins CPUs with sched_setaffinity: it runs on Linux only")
        systems.ensure_wrk()
        if args.soak:
            return run_soak(args, plan)
        return run_compare(args, plan)
    except MissingTool as missing:
        print(f"bench: {missing}", file=sys.stderr)
        return EXIT_MISSING_TOOL


if __name__ == "__main__":
    sys.exit(main())
