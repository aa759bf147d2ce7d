"""`nextmodel run`: start all five services locally, prefix their logs, stop them together.

Embedded defaults only need Python: SQLite files under .data/ and in-process stores.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

READY_TIMEOUT_SECONDS = 60.0
COLOURS = {"catalog": "35", "billing": "33", "cache": "36", "router": "32", "edge": "34"}


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    module: str
    port_env: str
    default_port: int
    grpc: bool = True


SERVICES = (
    ServiceSpec("catalog", "nextmodel_catalog.server", "NEXTMODEL_CATALOG_PORT", 50054),
    ServiceSpec("billing", "nextmodel_billing.server", "NEXTMODEL_BILLING_PORT", 50053),
    ServiceSpec("cache", "nextmodel_cache.server", "NEXTMODEL_CACHE_PORT", 50052),
    ServiceSpec("router", "nextmodel_router.server", "NEXTMODEL_ROUTER_PORT", 50051),
    ServiceSpec("edge", "nextmodel_edge.server", "NEXTMODEL_EDGE_PORT", 8080, grpc=False),
)


class StartupFailed(Exception):
    pass


def kept_secret(data_dir: Path, variable: str, filename: str, prefix: str) -> str:
    """The variable's value, else a secret kept in .data/<filename> (made once), so restarts keep working."""
    if os.environ.get(variable):
        return os.environ[variable]
    path = data_dir / filename
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = prefix + secrets.token_urlsafe(32)
    path.write_text(value + "\n")
    path.chmod(0o600)
    return value


def service_env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["NEXTMODEL_DEV_KEY"] = kept_secret(data_dir, "NEXTMODEL_DEV_KEY", "dev-key", "nm-")
    env["NEXTMODEL_ADMIN_KEY"] = kept_secret(data_dir, "NEXTMODEL_ADMIN_KEY", "admin-key", "nm-admin-")
    env["NEXTMODEL_SECRET_KEY"] = kept_secret(data_dir, "NEXTMODEL_SECRET_KEY", "secret-key", "")
    env["NEXTMODEL_RECEIPT_SECRET"] = kept_secret(data_dir, "NEXTMODEL_RECEIPT_SECRET", "receipt-secret", "")
    env.setdefault("NEXTMODEL_ROUTER_OUTBOX_PATH", str(data_dir / "router-outbox.db"))
    env.setdefault("PYTHONUNBUFFERED", "1")
    for spec in SERVICES:
        port = int(env.get(spec.port_env, spec.default_port))
        env[spec.port_env] = str(port)
        if spec.grpc:
            env.setdefault(f"NEXTMODEL_{spec.name.upper()}_ADDR", f"127.0.0.1:{port}")
    return env


class Supervisor:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.processes: dict[str, asyncio.subprocess.Process] = {}
        self.pumps: list[asyncio.Task] = []

    def port(self, spec: ServiceSpec) -> int:
        return int(self.env[spec.port_env])

    async def start(self, spec: ServiceSpec) -> None:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", spec.module, env=self.env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, start_new_session=True,
        )
        self.processes[spec.name] = process
        self.pumps.append(asyncio.create_task(self._pump(spec.name, process)))
        await self._wait_ready(spec, process)

    async def _pump(self, name: str, process: asyncio.subprocess.Process) -> None:
        colour = COLOURS.get(name, "0") if sys.stdout.isatty() else ""
        prefix = f"\x1b[{colour}m{name:>8} |\x1b[0m " if colour else f"{name:>8} | "
        assert process.stdout is not None
        async for line in process.stdout:
            sys.stdout.write(prefix + line.decode("utf-8", "replace"))
            sys.stdout.flush()

    async def _wait_ready(self, spec: ServiceSpec, process: asyncio.subprocess.Process) -> None:
        deadline = asyncio.get_running_loop().time() + READY_TIMEOUT_SECONDS
        while asyncio.get_running_loop().time() < deadline:
            if process.returncode is not None:
                raise StartupFailed(f"{spec.name} exited with code {process.returncode} while starting; "
                                    "see its log lines above.")
            if await self._is_ready(spec):
                return
            await asyncio.sleep(0.1)
        raise StartupFailed(f"{spec.name} did not become ready on port {self.port(spec)} "
                            f"within {READY_TIMEOUT_SECONDS:.0f}s (is the port taken?).")

    async def _is_ready(self, spec: ServiceSpec) -> bool:
        if not spec.grpc:
            try:
                async with httpx.AsyncClient(timeout=1.0) as client:
                    return (await client.get(f"http://127.0.0.1:{self.port(spec)}/healthz")).status_code == 200
            except httpx.HTTPError:
                return False
        async with grpc.aio.insecure_channel(f"127.0.0.1:{self.port(spec)}") as channel:
            try:
                answer = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1.0)
                return answer.status == health_pb2.HealthCheckResponse.SERVING
            except grpc.aio.AioRpcError:
                return False

    async def stop(self) -> None:
        """SIGTERM in reverse start order (edge first), so nothing is called after it stopped."""
        for name in reversed(list(self.processes)):
            process = self.processes[name]
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.wait(), timeout=15)
                except asyncio.TimeoutError:
                    process.kill()
                    await process.wait()
        for pump in self.pumps:
            pump.cancel()

    async def wait_any_exit(self) -> str:
        waits = {asyncio.create_task(p.wait()): name for name, p in self.processes.items()}
        done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        return waits[next(iter(done))]


async def run() -> int:
    data_dir = Path(os.environ.get("NEXTMODEL_DATA_DIR", ".data"))
    supervisor = Supervisor(service_env(data_dir))
    key = supervisor.env["NEXTMODEL_DEV_KEY"]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        for spec in SERVICES:
            starting = asyncio.create_task(supervisor.start(spec))
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if stop.is_set():
                starting.cancel()
                await supervisor.stop()
                return 130
            stopping.cancel()
            starting.result()
    except StartupFailed as failure:
        print(f"\nNextModel failed to start: {failure}", file=sys.stderr, flush=True)
        await supervisor.stop()
        return 1
    edge_port = supervisor.env["NEXTMODEL_EDGE_PORT"]
    print(
        "\n"
        f"  NextModel is running at  http://127.0.0.1:{edge_port}/v1\n"
        f"  Development API key:     {key}\n"
        f"  Admin key (/admin/v1):   {supervisor.env['NEXTMODEL_ADMIN_KEY']}\n"
        f"  Dashboard:               http://127.0.0.1:{edge_port}/dashboard/\n"
        f"  Try: curl http://127.0.0.1:{edge_port}/v1/models -H 'Authorization: Bearer {key}'\n"
        "  Press Ctrl-C to stop.\n",
        flush=True,
    )
    exit_task = asyncio.create_task(supervisor.wait_any_exit())
    stop_task = asyncio.create_task(stop.wait())
    await asyncio.wait({exit_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
    if exit_task.done():
        name = exit_task.result()
        print(f"\nNextModel: {name} exited with code {supervisor.processes[name].returncode}; stopping the rest.",
              file=sys.stderr, flush=True)
        await supervisor.stop()
        return 1
    exit_task.cancel()
    await supervisor.stop()
    return 0
