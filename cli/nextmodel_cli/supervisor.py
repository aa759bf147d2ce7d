"""`nextmodel run`: start all five services locally, prefix their logs, restart one that crashes,
stop them together.

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


@dataclass(frozen=True)
class RestartPolicy:
    """When a crashed service is started again: `first_delay` s after its first crash, doubling
    with each crash in a row up to `max_delay` (it keeps restarting at that pace while it crash-loops,
    as Kubernetes' CrashLoopBackOff does, with laptop-sized times). A process that stayed up
    `reset_after` s before it exited starts the doubling over."""

    first_delay: float = 0.5
    max_delay: float = 30.0
    reset_after: float = 60.0

    def delay(self, crashes_in_a_row: int) -> float:
        return min(self.max_delay, self.first_delay * 2 ** max(0, crashes_in_a_row - 1))


def describe_exit(returncode: int | None) -> str:
    """'exited with code -9 (killed by SIGKILL)', from an asyncio/subprocess return code."""
    if returncode is not None and returncode < 0:
        try:
            signal_name = signal.Signals(-returncode).name
        except ValueError:
            signal_name = f"signal {-returncode}"
        return f"exited with code {returncode} (killed by {signal_name})"
    return f"exited with code {returncode}"


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
    """Starts the services in order, keeps each one running, and stops them together.

    Once a service has been ready, a keeper task watches its process: any exit while the run is
    up (a crash, SIGKILL, even code 0) is a crash, and the service is started again on the same
    port with the same environment after a backoff (`RestartPolicy`), while the others keep
    serving. `stop()` first tells the keepers to stop and waits for them, so a restart in progress
    either has not spawned its process yet or has registered it, and then stops every process.
    """

    def __init__(self, env: dict[str, str], services: tuple[ServiceSpec, ...] = SERVICES,
                 policy: RestartPolicy = RestartPolicy(), ready_timeout: float = READY_TIMEOUT_SECONDS) -> None:
        self.env = env
        self.services = services
        self.policy = policy
        self.ready_timeout = ready_timeout
        self.processes: dict[str, asyncio.subprocess.Process] = {}
        self.pumps: dict[str, asyncio.Task] = {}
        self.started_at: dict[str, float] = {}
        self.restarts: dict[str, int] = {}
        self.keepers: dict[str, asyncio.Task] = {}
        self.stopping = asyncio.Event()
        self.failure: str | None = None

    def port(self, spec: ServiceSpec) -> int:
        return int(self.env[spec.port_env])

    def say(self, message: str) -> None:
        print(f"NextModel: {message}", file=sys.stderr, flush=True)

    async def start(self, spec: ServiceSpec) -> None:
        """First start: spawn, wait until ready (StartupFailed when it exits or times out), then keep it."""
        process = await self._spawn(spec)
        if await self._wait_ready(spec, process):
            keeper = asyncio.create_task(self._keep(spec), name=f"keep-{spec.name}")
            keeper.add_done_callback(lambda task: self._keeper_ended(spec.name, task))
            self.keepers[spec.name] = keeper

    def _keeper_ended(self, name: str, keeper: asyncio.Task) -> None:
        """A keeper that failed (the supervisor's own bug, or no process could be spawned) leaves its
        service unwatched: say so and stop the run rather than carry on half-supervised."""
        if keeper.cancelled() or keeper.exception() is None:
            return
        self.failure = f"restarting {name} failed: {keeper.exception()!r}"
        self.say(self.failure + "; stopping the rest.")
        self.stopping.set()

    async def _spawn(self, spec: ServiceSpec) -> asyncio.subprocess.Process:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", spec.module, env=self.env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, start_new_session=True,
        )
        # Registered with no await in between, so stop() always finds the newest process.
        self.processes[spec.name] = process
        self.started_at[spec.name] = asyncio.get_running_loop().time()
        self.pumps[spec.name] = asyncio.create_task(self._pump(spec.name, process))
        return process

    async def _pump(self, name: str, process: asyncio.subprocess.Process) -> None:
        colour = COLOURS.get(name, "0") if sys.stdout.isatty() else ""
        prefix = f"\x1b[{colour}m{name:>8} |\x1b[0m " if colour else f"{name:>8} | "
        assert process.stdout is not None
        async for line in process.stdout:
            sys.stdout.write(prefix + line.decode("utf-8", "replace"))
            sys.stdout.flush()

    async def _drain(self, name: str) -> None:
        """Let a stopped process's last lines (a traceback) print, then drop its pump."""
        pump = self.pumps.get(name)
        if pump is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(pump), timeout=1.0)
        except (TimeoutError, Exception):
            pump.cancel()

    async def _wait_ready(self, spec: ServiceSpec, process: asyncio.subprocess.Process) -> bool:
        """True once the first start answers its health check; False when the run stops meanwhile."""
        deadline = asyncio.get_running_loop().time() + self.ready_timeout
        while asyncio.get_running_loop().time() < deadline:
            if self.stopping.is_set():
                return False
            if process.returncode is not None:
                await self._drain(spec.name)
                raise StartupFailed(f"{spec.name} {describe_exit(process.returncode)} while starting; "
                                    "see its log lines above.")
            if await self._is_ready(spec):
                return True
            await self._stopped_within(0.1)
        raise StartupFailed(f"{spec.name} did not become ready on port {self.port(spec)} "
                            f"within {self.ready_timeout:.0f}s (is the port taken?).")

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

    async def _stopped_within(self, seconds: float) -> bool:
        """Sleep `seconds`, or less when the run stops meanwhile: True when it stopped."""
        try:
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)
            return True
        except TimeoutError:
            return False

    async def _keep(self, spec: ServiceSpec) -> None:
        """Restart the service whenever its process exits, until the run stops."""
        loop = asyncio.get_running_loop()
        name = spec.name
        crashes_in_a_row = 0
        while True:
            process = self.processes[name]
            if not await self._exited(process):
                return
            down_since = loop.time()
            up_for = down_since - self.started_at[name]
            crashes_in_a_row = 1 if up_for >= self.policy.reset_after else crashes_in_a_row + 1
            self.restarts[name] = self.restarts.get(name, 0) + 1
            delay = self.policy.delay(crashes_in_a_row)
            await self._drain(name)
            self.say(f"{name} {describe_exit(process.returncode)}; restarting in {delay:g} s "
                     f"(restart {self.restarts[name]})")
            if await self._stopped_within(delay):
                return
            # Not interruptible (it takes milliseconds): stop() waits for this task, then stops it.
            process = await self._spawn(spec)
            if await self._wait_ready_again(spec, process):
                self.say(f"{name} is ready again ({loop.time() - down_since:.1f} s after it exited)")
            elif self.stopping.is_set():
                return
            # Otherwise it exited before it was ready: the loop sees the exit and backs off further.

    async def _exited(self, process: asyncio.subprocess.Process) -> bool:
        """Wait until the process exits (True) or the run stops (False)."""
        exited = asyncio.ensure_future(process.wait())
        stopping = asyncio.ensure_future(self.stopping.wait())
        await asyncio.wait({exited, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if self.stopping.is_set():
            exited.cancel()
            return False
        return True

    async def _wait_ready_again(self, spec: ServiceSpec, process: asyncio.subprocess.Process) -> bool:
        """True once the restarted process is ready; False when it exits first or the run stops.

        No deadline ends the wait (as a readiness probe, not a liveness probe): a service can be
        alive and not ready for a reason elsewhere (the router has no catalog copy yet), and
        restarting it would not help. Past the startup timeout it says so once.
        """
        deadline = asyncio.get_running_loop().time() + self.ready_timeout
        warned = False
        while not self.stopping.is_set() and process.returncode is None:
            if await self._is_ready(spec):
                return True
            if not warned and asyncio.get_running_loop().time() > deadline:
                warned = True
                self.say(f"{spec.name} is not ready again on port {self.port(spec)} after "
                         f"{self.ready_timeout:.0f} s; still waiting (its log lines above say why)")
            await self._stopped_within(0.1)
        return False

    async def stop(self) -> None:
        """Stop the keepers (no restart after this), then SIGTERM in reverse start order (edge
        first), so nothing is called after it stopped."""
        self.stopping.set()
        await asyncio.gather(*self.keepers.values(), return_exceptions=True)
        for spec in reversed(self.services):
            process = self.processes.get(spec.name)
            if process is None:
                continue
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.wait(), timeout=15)
                except TimeoutError:
                    process.kill()
                    await process.wait()
            await self._drain(spec.name)


async def run() -> int:
    data_dir = Path(os.environ.get("NEXTMODEL_DATA_DIR", ".data"))
    supervisor = Supervisor(service_env(data_dir))
    key = supervisor.env["NEXTMODEL_DEV_KEY"]
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, supervisor.stopping.set)
    try:
        for spec in supervisor.services:
            await supervisor.start(spec)
            if supervisor.stopping.is_set():
                await supervisor.stop()
                return 1 if supervisor.failure else 130
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
    await supervisor.stopping.wait()
    await supervisor.stop()
    return 1 if supervisor.failure else 0
