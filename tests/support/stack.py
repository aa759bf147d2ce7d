"""Start the real NextModel processes for end-to-end tests, one OS process per service.

The processes are started directly (not through `nextmodel run`) so a test can stop and
restart one service under traffic. `nextmodel run` itself has its own test.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from nextmodel_cli.supervisor import SERVICES

ROOT = Path(__file__).resolve().parents[2]
SERVICE_PORT_ENVS = {spec.name: spec.port_env for spec in SERVICES}
ADMIN_KEY = "nm-admin-test-" + "a" * 32
RECEIPT_SECRET = "test-receipt-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Stack:
    workdir: Path
    env_overrides: dict[str, str]
    dev_key: str = "nm-test-" + "k" * 32
    admin_key: str = ADMIN_KEY
    ports: dict[str, int] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ports = {name: free_port() for name in SERVICE_PORT_ENVS}
        self.processes: dict[str, subprocess.Popen] = {}

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['edge']}/v1"

    @property
    def edge_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['edge']}"

    def addr(self, service: str) -> str:
        return f"127.0.0.1:{self.ports[service]}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NEXTMODEL_", "OTEL_"))}
        env.update({port_env: str(self.ports[name]) for name, port_env in SERVICE_PORT_ENVS.items()})
        env.update({f"NEXTMODEL_{name.upper()}_ADDR": self.addr(name) for name in SERVICE_PORT_ENVS if name != "edge"})
        env.update({
            "PYTHONUNBUFFERED": "1",
            "NEXTMODEL_DEV_KEY": self.dev_key,
            "NEXTMODEL_ADMIN_KEY": self.admin_key,
            "NEXTMODEL_RECEIPT_SECRET": RECEIPT_SECRET,
            "NEXTMODEL_SECRET_KEY": "test-secret-key-for-provider-keys",
            "NEXTMODEL_DATA_DIR": str(self.workdir / ".data"),
            "NEXTMODEL_ROUTER_OUTBOX_PATH": str(self.workdir / ".data" / "router-outbox.db"),
            "NEXTMODEL_DATABASE_URL": f"sqlite+aiosqlite:///{self.workdir}/nextmodel.db",
            "NEXTMODEL_CATALOG_REFRESH_SECONDS": "1",
        })
        env.update(self.env_overrides)
        return env

    def start(self, timeout: float = 60.0) -> Stack:
        for spec in SERVICES:
            self.start_service(spec.name, timeout)
        return self

    def start_replica(self, name: str, port: int, extra_env: dict[str, str], timeout: float = 60.0) -> None:
        """A second process of a service on its own port (as another Kubernetes replica would be)."""
        self.ports[f"{name}@{port}"] = port
        self.start_service(name, timeout, {SERVICE_PORT_ENVS[name]: str(port), **extra_env}, label=f"{name}@{port}")

    def start_service(self, name: str, timeout: float = 60.0, extra_env: dict[str, str] | None = None,
                      label: str | None = None) -> None:
        spec = next(s for s in SERVICES if s.name == name)
        label = label or name
        process = subprocess.Popen([sys.executable, "-m", spec.module], cwd=self.workdir,
                                   env={**self.env(), **(extra_env or {})},
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        self.processes[label] = process
        threading.Thread(target=self._collect, args=(label, process), daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self.stop()
                raise RuntimeError(f"{label} exited while starting:\n" + "".join(self.log[-60:]))
            if self._ready(label):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{name} did not become ready:\n" + "".join(self.log[-60:]))

    def _ready(self, name: str) -> bool:
        if name == "edge":
            try:
                return httpx.get(f"{self.edge_url}/readyz", timeout=1.0).status_code == 200
            except httpx.HTTPError:
                return False
        with grpc.insecure_channel(self.addr(name)) as channel:
            try:
                answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1.0)
                return answer.status == health_pb2.HealthCheckResponse.SERVING
            except grpc.RpcError:
                return False

    def _collect(self, name: str, process: subprocess.Popen) -> None:
        # Every line is also kept on disk, where the suite's log scan reads it afterwards.
        assert process.stdout
        with open(self.workdir / f"service-{name}.log", "a", encoding="utf-8") as kept:
            for line in process.stdout:
                text = line.decode("utf-8", "replace")
                self.log.append(f"{name:>8} | " + text)
                kept.write(text)
                kept.flush()

    def stop_service(self, name: str, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        process = self.processes.get(name)
        if process is None or process.poll() is not None:
            return process.returncode if process else 0
        process.send_signal(sig)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            return process.wait()

    def stop(self) -> None:
        order = ("edge", "router", "cache", "billing", "catalog")
        for name in sorted(self.processes, key=lambda label: order.index(label.split("@")[0])):
            self.stop_service(name)

    def admin(self) -> httpx.Client:
        return httpx.Client(base_url=self.edge_url, headers={"authorization": f"Bearer {self.admin_key}"},
                            timeout=30)

    # -- helpers for fault and rollout tests ---------------------------------------------

    def running(self, label: str) -> bool:
        process = self.processes.get(label)
        return process is not None and process.poll() is None

    def restart_service(self, name: str, sig: int = signal.SIGTERM, extra_env: dict[str, str] | None = None) -> None:
        """Stop one service (SIGTERM drains, SIGKILL crashes) and start it again on its port."""
        self.stop_service(name, sig)
        self.start_service(name, extra_env=extra_env)

    def wait_routing(self, label: str = "router", timeout: float = 20.0) -> None:
        """Until one router process (by its label) has a catalog copy and routes (its health says
        SERVING only once it has one; this also checks that it answers)."""
        from nextmodel.router.v1 import router_pb2, router_pb2_grpc

        deadline = time.monotonic() + timeout
        with grpc.insecure_channel(self.addr(label)) as channel:
            stub = router_pb2_grpc.RouterServiceStub(channel)
            while True:
                try:
                    stub.ListModels(router_pb2.ListModelsRequest(), timeout=2.0,
                                    metadata=(("authorization", f"Bearer {self.dev_key}"),))
                    return
                except grpc.RpcError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{label} does not route:\n" + "".join(self.log[-60:])) from None
                    time.sleep(0.05)

    def ensure_running(self, timeout: float = 20.0) -> None:
        """Start again any of the five services a test left stopped (a fault test's cleanup), then
        wait until the router routes again (it has a catalog copy), so the next test finds it whole."""
        for spec in SERVICES:
            if not self.running(spec.name):
                self.start_service(spec.name)
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.base_url}/models", headers={"authorization": f"Bearer {self.dev_key}"},
                             timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the stack did not serve again:\n" + "".join(self.log[-60:]))
            time.sleep(0.1)


@dataclass
class Answer:
    """One request of `Traffic`: when it started and ended (monotonic), its status (0: no HTTP
    answer), its headers, and what went wrong when it was not served."""

    worker: int
    started: float
    ended: float
    status: int
    headers: dict[str, str]
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200 and not self.error


class Traffic:
    """Steady chat traffic through the edge from `workers` threads until the block ends.

    `body(worker, index)` gives each request's body; a body with "stream": true is read to the
    end and counts as served only when it ends with `data: [DONE]` and carries no error event.
    Every answer is kept, in the order they ended, for the test to check.
    """

    def __init__(self, base_url: str, key: str, *, workers: int = 4, body=None, pause: float = 0.0,
                 timeout: float = 30.0) -> None:
        self.base_url = base_url
        self.key = key
        self.workers = workers
        self.body = body or (lambda worker, index: {
            "model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"traffic {worker}.{index}"}]})
        self.pause = pause
        self.timeout = timeout
        self.answers: list[Answer] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> Traffic:
        self._threads = [threading.Thread(target=self._work, args=(worker,), daemon=True)
                         for worker in range(self.workers)]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.timeout + 5)

    def _work(self, worker: int) -> None:
        headers = {"authorization": f"Bearer {self.key}"}
        with httpx.Client(base_url=self.base_url, headers=headers, timeout=self.timeout) as client:
            index = 0
            while not self._stop.is_set():
                index += 1
                body = self.body(worker, index)
                started = time.monotonic()
                try:
                    if body.get("stream"):
                        answer = self._stream(client, worker, started, body)
                    else:
                        response = client.post("/chat/completions", json=body)
                        answer = Answer(worker, started, time.monotonic(), response.status_code,
                                        dict(response.headers),
                                        "" if response.status_code == 200 else response.text[:300])
                except httpx.HTTPError as failure:
                    answer = Answer(worker, started, time.monotonic(), 0, {}, repr(failure))
                with self._lock:
                    self.answers.append(answer)
                if self.pause:
                    time.sleep(self.pause)

    @staticmethod
    def _stream(client: httpx.Client, worker: int, started: float, body: dict) -> Answer:
        with client.stream("POST", "/chat/completions", json=body) as response:
            if response.status_code != 200:
                response.read()
                return Answer(worker, started, time.monotonic(), response.status_code, dict(response.headers),
                              response.text[:300])
            events = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
        error = ""
        if not events or events[-1] != "[DONE]":
            error = "stream did not end with [DONE]: " + (events[-1][:300] if events else "no event")
        elif any(event.startswith('{"error"') for event in events):
            error = "stream carried an error event"
        return Answer(worker, started, time.monotonic(), 200, dict(response.headers), error)

    def snapshot(self) -> list[Answer]:
        with self._lock:
            return list(self.answers)

    def served(self) -> int:
        return sum(answer.ok for answer in self.snapshot())

    def failures(self) -> list[Answer]:
        return [answer for answer in self.snapshot() if not answer.ok]

    def wait_for(self, served: int, timeout: float = 20.0) -> None:
        """Block until `served` requests in all were served (fails the test after `timeout`)."""
        deadline = time.monotonic() + timeout
        while self.served() < served:
            if time.monotonic() > deadline:
                raise AssertionError(f"traffic served {self.served()} of {served} in {timeout} s; "
                                     f"failures: {[a.error or a.status for a in self.failures()[:3]]}")
            time.sleep(0.02)


def eventually(check, *, timeout: float = 20.0, interval: float = 0.1, what: str = "the condition"):
    """Call `check` until it returns something truthy, and return that; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(interval)
