"""Start the real NextModel processes (through `nextmodel run`) for end-to-end tests."""

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

import httpx

ROOT = Path(__file__).resolve().parents[2]
SERVICE_PORT_ENVS = {
    "edge": "NEXTMODEL_EDGE_PORT",
    "router": "NEXTMODEL_ROUTER_PORT",
    "cache": "NEXTMODEL_CACHE_PORT",
    "billing": "NEXTMODEL_BILLING_PORT",
    "catalog": "NEXTMODEL_CATALOG_PORT",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Stack:
    workdir: Path
    env_overrides: dict[str, str]
    dev_key: str = "nm-test-" + "k" * 32
    ports: dict[str, int] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ports = {name: free_port() for name in SERVICE_PORT_ENVS}
        self.process: subprocess.Popen | None = None

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
        env.update({SERVICE_PORT_ENVS[name]: str(port) for name, port in self.ports.items()})
        env.update({
            "NEXTMODEL_DEV_KEY": self.dev_key,
            "NEXTMODEL_DATA_DIR": str(self.workdir / ".data"),
            "NEXTMODEL_DATABASE_URL": f"sqlite+aiosqlite:///{self.workdir}/nextmodel.db",
            "NEXTMODEL_CATALOG_REFRESH_SECONDS": "1",
        })
        env.update(self.env_overrides)
        return env

    def start(self, timeout: float = 60.0) -> "Stack":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "nextmodel_cli.main", "run"], cwd=self.workdir, env=self.env(),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )
        threading.Thread(target=self._collect, daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("stack exited while starting:\n" + "".join(self.log[-60:]))
            try:
                if httpx.get(f"{self.edge_url}/readyz", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("stack did not become ready:\n" + "".join(self.log[-60:]))

    def _collect(self) -> None:
        assert self.process and self.process.stdout
        for line in self.process.stdout:
            self.log.append(line.decode("utf-8", "replace"))

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
