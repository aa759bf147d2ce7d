"""Added latency of one request: the gateway vs. the upstream called directly.

Starts the fake upstream and the whole stack on loopback, then sends N sequential
requests to each (interleaved, same client settings) and prints p50/p90/p99.
Usage: python bench/latency.py [N]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.support.fake_upstream import FakeUpstream  # noqa: E402
from tests.support.stack import Stack  # noqa: E402


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(n: int) -> None:
    fake = FakeUpstream().start()
    stack = Stack(Path(tempfile.mkdtemp()),
                  {"OPENAI_BASE_URL": fake.base_url("openai"), "OPENAI_API_KEY": "sk-bench"}).start()
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}
    direct, gateway = [], []
    try:
        with httpx.Client() as client:
            for _ in range(20):  # warm both paths
                client.post(f"{fake.base_url('openai')}/chat/completions", json=body)
                client.post(f"{stack.base_url}/chat/completions", json=body,
                            headers={"authorization": f"Bearer {stack.dev_key}"})
            for _ in range(n):
                started = time.perf_counter()
                client.post(f"{fake.base_url('openai')}/chat/completions", json=body).raise_for_status()
                direct.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                client.post(f"{stack.base_url}/chat/completions", json=body,
                            headers={"authorization": f"Bearer {stack.dev_key}"}).raise_for_status()
                gateway.append((time.perf_counter() - started) * 1000)
    finally:
        stack.stop()
        fake.stop()
    print(f"{n} sequential requests each")
    print(f"{'':10} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    for name, samples in (("direct", direct), ("gateway", gateway)):
        print(f"{name:10} {percentile(samples, .5):8.2f} {percentile(samples, .9):8.2f} "
              f"{percentile(samples, .99):8.2f} {statistics.mean(samples):8.2f}")
    print(f"added p50: {percentile(gateway, .5) - percentile(direct, .5):.2f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
