"""`nextmodel run` must fail loudly, and stop everything, when a service cannot start; once
running, it restarts a service that dies (on its port, the others untouched) and still stops
everything, leaving no process behind, when it is stopped in the middle of a restart."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from nextmodel_cli.supervisor import SERVICES
from tests.conftest import provider_env
from tests.support.stack import Stack, eventually

pytestmark = pytest.mark.e2e


def test_a_service_that_cannot_start_stops_the_run_with_a_clear_message(tmp_path) -> None:
    stack = Stack(tmp_path, {})
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", stack.ports["billing"]))
        taken.listen()
        run = subprocess.run([sys.executable, "-m", "nextmodel_cli.main", "run"], cwd=tmp_path, env=stack.env(),
                             capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    assert "NextModel failed to start: billing" in run.stderr
    # The services started before it were stopped too.
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{stack.edge_url}/healthz", timeout=1)


def test_readyz_names_a_missing_service_and_is_503_only_without_a_router(stack) -> None:
    from fastapi.testclient import TestClient

    from nextmodel_edge.app import create_app
    from nextmodel_edge.config import EdgeSettings

    def readyz(**addresses) -> tuple[int, dict]:
        running = {f"{name}_addr": stack.addr(name) for name in ("router", "cache", "billing", "catalog")}
        settings = EdgeSettings(**{**running, **addresses})
        with TestClient(create_app(settings)) as edge:
            answer = edge.get("/readyz")
        return answer.status_code, answer.json()

    status, body = readyz(cache_addr="127.0.0.1:9")
    assert status == 200, "the router serves Fresh without the cache"
    assert body == {"status": "ready", "checks": {"router": "ok", "cache": "unavailable", "billing": "ok",
                                                  "catalog": "ok"}}
    status, body = readyz(router_addr="127.0.0.1:9")
    assert status == 503
    assert body["status"] == "unavailable" and body["checks"]["router"] == "unavailable"


# -- restarts under `nextmodel run` ---------------------------------------------------------

MODULES = {spec.module: spec.name for spec in SERVICES}


def _stat(pid: int) -> tuple[str, int]:
    """(state, parent pid) of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return fields[0], int(fields[1])


def alive(pid: int) -> bool:
    try:
        return _stat(pid)[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


class SupervisedRun:
    """`nextmodel run` as a user starts it, its output collected; the services are its children."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.lines: list[str] = []
        self.seen: set[int] = set()  # every service pid seen, restarted ones included
        self.process = subprocess.Popen([sys.executable, "-m", "nextmodel_cli.main", "run"], cwd=stack.workdir,
                                        env=stack.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        # Service lines are also kept where the suite's log scan reads them (the banner has keys).
        assert self.process.stdout
        for raw in self.process.stdout:
            line = raw.decode("utf-8", "replace")
            self.lines.append(line)
            name, bar, text = line.partition(" | ")
            if bar and name.strip() in MODULES.values():
                with open(self.stack.workdir / f"service-run-{name.strip()}.log", "a", encoding="utf-8") as kept:
                    kept.write(text)

    def text(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float) -> None:
        eventually(lambda: text in self.text() or self.process.poll() is not None, timeout=timeout,
                   interval=0.02, what=f"the line {text!r}")
        assert text in self.text(), f"nextmodel run exited ({self.process.returncode}):\n{self.text()[-4000:]}"

    def pids(self) -> dict[str, int]:
        """The running service processes (children of `nextmodel run`), by service name."""
        found = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                state, parent = _stat(int(entry))
                argv = Path(f"/proc/{entry}/cmdline").read_bytes().decode().split("\0")
            except (OSError, ValueError, IndexError):
                continue
            if parent == self.process.pid and state != "Z" and "-m" in argv:
                module = argv[argv.index("-m") + 1]
                if module in MODULES:
                    found[MODULES[module]] = int(entry)
        self.seen.update(found.values())
        return found


@pytest.fixture
def supervised(tmp_path, fake_upstream):
    stack = Stack(tmp_path, provider_env(fake_upstream))
    run = SupervisedRun(stack)
    try:
        run.wait_for("NextModel is running at", timeout=120)
        yield run
    finally:
        if run.process.poll() is None:
            run.process.send_signal(signal.SIGTERM)
            try:
                run.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                run.process.kill()
        for pid in run.seen:  # whatever a failed test left behind
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def chat(stack: Stack, content: str) -> httpx.Response:
    return httpx.post(f"{stack.base_url}/chat/completions", timeout=30,
                      headers={"authorization": f"Bearer {stack.dev_key}"},
                      json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}]})


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the service processes in /proc")
def test_a_killed_service_is_restarted_on_its_port_while_the_others_keep_running(supervised) -> None:
    stack = supervised.stack
    assert chat(stack, "before any crash").status_code == 200  # the edge's channels are up
    for name in ("billing", "router"):
        before = supervised.pids()
        assert set(before) == set(MODULES.values())
        killed = time.monotonic()
        os.kill(before[name], signal.SIGKILL)
        supervised.wait_for(f"NextModel: {name} exited with code -9 (killed by SIGKILL); "
                            "restarting in 0.5 s (restart 1)", timeout=10)
        # Its health check answers SERVING again on the port it had.
        eventually(lambda: stack._ready(name), timeout=30, interval=0.05, what=f"{name} serving again")
        took = time.monotonic() - killed
        supervised.wait_for(f"NextModel: {name} is ready again", timeout=5)
        after = supervised.pids()
        assert after[name] != before[name]
        assert {k: v for k, v in after.items() if k != name} == {k: v for k, v in before.items() if k != name}, \
            "only the killed service was restarted"
        # A request through the edge is served: the edge's long-lived channel finds the new process
        # on the same port within moments (its reconnect backoff is capped at 2 s; test_faults.py).
        deadline, refused = time.monotonic() + 3, 0
        answer = chat(stack, f"after {name} was killed")
        while answer.status_code == 503 and time.monotonic() < deadline:
            refused += 1
            time.sleep(0.1)
            answer = chat(stack, f"after {name} was killed")
        assert answer.status_code == 200, answer.text
        print(f"\n{name}: SIGKILL -> serving again in {took:.2f} s (0.5 s of it the backoff); "
              f"first chat through the edge served after {refused} quick 503s")
    assert supervised.process.poll() is None, "nextmodel run kept running"
    assert "stopping the rest" not in supervised.text()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the service processes in /proc")
def test_stopping_in_the_middle_of_a_restart_leaves_no_process_behind(supervised) -> None:
    before = supervised.pids()
    os.kill(before["cache"], signal.SIGKILL)
    supervised.wait_for("NextModel: cache exited with code -9", timeout=10)
    restarted = eventually(lambda: (pid := supervised.pids().get("cache")) != before["cache"] and pid,
                           timeout=5, interval=0.01, what="the new cache process")
    assert "cache is ready again" not in supervised.text(), "the stop comes while the new cache is starting"
    supervised.process.send_signal(signal.SIGTERM)
    assert supervised.process.wait(timeout=60) == 0
    left = [pid for pid in [*before.values(), restarted] if alive(pid)]
    assert not left, f"processes left behind: {left}"
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{supervised.stack.edge_url}/healthz", timeout=1)
