"""The supervisor's restart rules on tiny stand-in services (stdlib HTTP servers that answer
/healthz), so crashes, crash loops and a shutdown during a restart play out in a second.
The real five services under `nextmodel run` are tested in tests/e2e/test_supervisor.py."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import textwrap
from pathlib import Path

import pytest

from nextmodel_cli.supervisor import RestartPolicy, ServiceSpec, StartupFailed, Supervisor, describe_exit

# FAKE_LIFETIME: exit (code 3) this long after listening. FAKE_SLOW_RESTART: a start after the
# first waits this long before it listens (a restart still starting up). FAKE_NEVER_READY: never listen.
FAKE_SERVICE = textwrap.dedent('''
    import os, sys, threading, time
    from http.server import BaseHTTPRequestHandler, HTTPServer

    name = sys.argv[0].rsplit("/", 1)[-1].removesuffix(".py")
    starts = os.path.join(os.environ["FAKE_DIR"], name + ".starts")
    first = not os.path.exists(starts)
    with open(starts, "a") as kept:
        kept.write(f"{os.getpid()}\\n")
    if os.environ.get("FAKE_NEVER_READY") == name:
        time.sleep(3600)
    if not first and os.environ.get("FAKE_SLOW_RESTART"):
        time.sleep(float(os.environ["FAKE_SLOW_RESTART"]))

    class Health(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", int(os.environ[name.upper() + "_PORT"])), Health)
    if os.environ.get("FAKE_LIFETIME_" + name.upper()):
        threading.Timer(float(os.environ["FAKE_LIFETIME_" + name.upper()]), lambda: os._exit(3)).start()
    print(f"{name} listening", flush=True)
    server.serve_forever()
''')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


FAST_RESTARTS = RestartPolicy(0.05, 0.4, 60.0)


def fake_supervisor(tmp_path: Path, names=("alpha", "beta"), policy=FAST_RESTARTS,
                    ready_timeout: float = 10.0, **env: str) -> Supervisor:
    for name in names:
        (tmp_path / f"{name}.py").write_text(FAKE_SERVICE)
    specs = tuple(ServiceSpec(name, name, f"{name.upper()}_PORT", 0, grpc=False) for name in names)
    environment = {**os.environ, "PYTHONPATH": str(tmp_path), "FAKE_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1",
                   **{spec.port_env: str(free_port()) for spec in specs}, **env}
    return Supervisor(environment, specs, policy, ready_timeout)


async def started(supervisor: Supervisor) -> Supervisor:
    for spec in supervisor.services:
        await supervisor.start(spec)
    return supervisor


async def until(check, timeout: float = 10.0, what: str = "the condition"):
    deadline = asyncio.get_running_loop().time() + timeout
    while not (value := check()):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        await asyncio.sleep(0.02)
    return value


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is not alive (Linux)
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


def started_pids(tmp_path: Path, name: str) -> list[int]:
    path = tmp_path / f"{name}.starts"
    return [int(line) for line in path.read_text().split()] if path.exists() else []


def test_backoff_doubles_from_half_a_second_to_a_cap() -> None:
    policy = RestartPolicy()
    assert [policy.delay(n) for n in range(1, 10)] == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]


def test_exits_are_described_with_the_signal() -> None:
    assert describe_exit(-9) == "exited with code -9 (killed by SIGKILL)"
    assert describe_exit(-15) == "exited with code -15 (killed by SIGTERM)"
    assert describe_exit(1) == "exited with code 1"
    assert describe_exit(-200) == "exited with code -200 (killed by signal 200)"


async def test_a_killed_service_comes_back_on_its_port_and_the_other_is_untouched(tmp_path, capsys) -> None:
    supervisor = await started(fake_supervisor(tmp_path))
    err = ""

    def said(text: str) -> bool:
        nonlocal err
        err += capsys.readouterr().err
        return text in err

    try:
        alpha, beta = supervisor.processes["alpha"], supervisor.processes["beta"]
        alpha.send_signal(signal.SIGKILL)
        await until(lambda: said("alpha is ready again"), what="alpha ready again")
        assert "NextModel: alpha exited with code -9 (killed by SIGKILL); restarting in 0.05 s (restart 1)" in err
        assert supervisor.processes["alpha"].pid != alpha.pid and supervisor.processes["alpha"].returncode is None
        assert await supervisor._is_ready(supervisor.services[0])  # on the port it had
        assert supervisor.processes["beta"] is beta and beta.returncode is None
        assert supervisor.restarts == {"alpha": 1}
    finally:
        await supervisor.stop()
    assert not any(alive(pid) for name in ("alpha", "beta") for pid in started_pids(tmp_path, name))


async def test_a_crash_loop_backs_off_doubling_to_the_cap_and_keeps_restarting(tmp_path, capsys) -> None:
    supervisor = await started(fake_supervisor(tmp_path, FAKE_LIFETIME_ALPHA="0.3"))
    try:
        await until(lambda: supervisor.restarts.get("alpha", 0) >= 6, timeout=15, what="six restarts")
    finally:
        await supervisor.stop()
    err = capsys.readouterr().err
    delays = [line.split("restarting in ")[1].split(" s")[0] for line in err.splitlines() if "restarting in" in line]
    assert delays[:6] == ["0.05", "0.1", "0.2", "0.4", "0.4", "0.4"]
    assert "alpha exited with code 3; restarting" in err
    assert supervisor.processes["beta"].pid == started_pids(tmp_path, "beta")[0], "beta was never restarted"


async def test_a_service_that_stayed_up_long_enough_starts_the_backoff_over(tmp_path, capsys) -> None:
    supervisor = await started(fake_supervisor(tmp_path, policy=RestartPolicy(0.05, 0.4, reset_after=0.2),
                                               FAKE_LIFETIME_ALPHA="0.3"))
    try:
        await until(lambda: supervisor.restarts.get("alpha", 0) >= 3, timeout=15, what="three restarts")
    finally:
        await supervisor.stop()
    delays = [line.split("restarting in ")[1].split(" s")[0]
              for line in capsys.readouterr().err.splitlines() if "restarting in" in line]
    assert delays[:3] == ["0.05", "0.05", "0.05"]


async def test_stopping_during_a_restart_leaves_no_process_behind(tmp_path) -> None:
    # The restarted process takes 2 s before it listens: stop() comes while it is starting.
    supervisor = await started(fake_supervisor(tmp_path, FAKE_SLOW_RESTART="2"))
    first = supervisor.processes["alpha"]
    first.send_signal(signal.SIGKILL)
    await until(lambda: len(started_pids(tmp_path, "alpha")) == 2, what="the restart spawned")
    stopping = asyncio.get_running_loop().time()
    await supervisor.stop()
    assert asyncio.get_running_loop().time() - stopping < 3
    pids = started_pids(tmp_path, "alpha") + started_pids(tmp_path, "beta")
    assert len(pids) == 3 and not any(alive(pid) for pid in pids)
    assert supervisor.processes["alpha"].returncode is not None


async def test_stopping_during_the_backoff_starts_nothing(tmp_path) -> None:
    supervisor = await started(fake_supervisor(tmp_path, policy=RestartPolicy(30.0, 30.0, 60.0)))
    supervisor.processes["alpha"].send_signal(signal.SIGKILL)
    await until(lambda: supervisor.restarts.get("alpha") == 1, what="the restart scheduled")
    stopping = asyncio.get_running_loop().time()
    await supervisor.stop()
    assert asyncio.get_running_loop().time() - stopping < 2, "the 30 s backoff did not hold up the stop"
    assert len(started_pids(tmp_path, "alpha")) == 1
    assert not any(alive(pid) for name in ("alpha", "beta") for pid in started_pids(tmp_path, name))


async def test_a_first_start_that_is_never_ready_fails_the_run_naming_it(tmp_path) -> None:
    supervisor = fake_supervisor(tmp_path, ready_timeout=0.5, FAKE_NEVER_READY="beta")
    with pytest.raises(StartupFailed, match="^beta did not become ready"):
        await started(supervisor)
    await supervisor.stop()
    assert not any(alive(pid) for name in ("alpha", "beta") for pid in started_pids(tmp_path, name))
    assert "beta" not in supervisor.keepers


async def test_a_restart_that_cannot_spawn_stops_the_run_instead_of_leaving_it_unwatched(tmp_path, capsys) -> None:
    supervisor = await started(fake_supervisor(tmp_path))

    async def no_more_processes(spec):
        raise OSError(11, "Resource temporarily unavailable")

    supervisor._spawn = no_more_processes
    supervisor.processes["alpha"].send_signal(signal.SIGKILL)
    await asyncio.wait_for(supervisor.stopping.wait(), timeout=10)
    await supervisor.stop()
    assert supervisor.failure and supervisor.failure.startswith("restarting alpha failed: BlockingIOError(11")
    assert "stopping the rest" in capsys.readouterr().err
    assert not any(alive(pid) for name in ("alpha", "beta") for pid in started_pids(tmp_path, name))
