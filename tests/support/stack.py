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

    def start(self, timeout: float = 60.0) -> "Stack":
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
        assert process.stdout
        for line in process.stdout:
            self.log.append(f"{name:>8} | " + line.decode("utf-8", "replace"))

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
