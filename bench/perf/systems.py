"""The processes the benchmark runs: the fake upstream, NextModel's five services, LiteLLM's proxy;
the tools it needs (wrk, LiteLLM's virtual environment); CPU pinning and /proc readings."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SCRATCH = ROOT / ".bench"  # git-ignored: LiteLLM's venv, workdirs, logs
LITELLM_VERSION = "1.100.5"
LITELLM_VENV = SCRATCH / "litellm-venv"
LITELLM_MASTER_KEY = "sk-bench-litellm-master-key"
UPSTREAM_KEY = "sk-bench"
MODEL = "gpt-4o-mini"


class MissingTool(Exception):
    """A prerequisite (wrk, LiteLLM) is missing and could not be installed."""


# -- CPU layout and /proc ------------------------------------------------------------------------

def cpu_layout(name: str) -> dict:
    """Which CPUs the system under test and the driver (wrk, upstream, stream client) get.

    split (default on 2+ CPUs): the system under test on CPU 0, the load generator, the fake
      upstream and the harness on the last CPU, so they disturb each other as little as a
      2-core box allows; every system under test gets the same single core.
    shared: no pinning; everything competes for all CPUs.
    """
    cpus = sorted(os.sched_getaffinity(0))
    if name == "split" and len(cpus) >= 2:
        half = max(1, len(cpus) // 2)
        return {"name": "split", "sut": cpus[:half], "driver": cpus[half:]}
    return {"name": "shared", "sut": cpus, "driver": cpus}


def children_of(pid: int) -> list[int]:
    """pid and all its descendants (from /proc/*/stat)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat[stat.rfind(b")") + 2:].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(parents.get(current, []))
    return tree


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kb(pid: int) -> int:
    return sum(rss_kb(p) for p in children_of(pid))


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    return sum(cpu_seconds(p) for p in children_of(pid))


def cpu_times() -> dict[str, tuple[int, int]]:
    """Per-CPU (busy, total) jiffies from /proc/stat."""
    out = {}
    with open("/proc/stat") as handle:
        for line in handle:
            if line.startswith("cpu") and line[3].isdigit():
                name, *values = line.split()
                numbers = [int(v) for v in values]
                idle = numbers[3] + (numbers[4] if len(numbers) > 4 else 0)
                out[name] = (sum(numbers[:8]) - idle, sum(numbers[:8]))
    return out


def pin(pid: int, cpus: list[int]) -> None:
    """Pin every thread of pid and of its descendants (threads started later inherit it)."""
    for process in children_of(pid):
        try:
            tasks = os.listdir(f"/proc/{process}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                os.sched_setaffinity(int(task), cpus)
            except OSError:
                pass


def allowed_cpus(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("Cpus_allowed_list:"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


class pinned_self:
    """Run a block (which starts child processes) with this process pinned to cpus."""

    def __init__(self, cpus: list[int]) -> None:
        self.cpus = cpus

    def __enter__(self) -> None:
        self.before = os.sched_getaffinity(0)
        os.sched_setaffinity(0, self.cpus)

    def __exit__(self, *exc) -> None:
        os.sched_setaffinity(0, self.before)


# -- tools -----------------------------------------------------------------------------------------

def _apt_install(package: str) -> bool:
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print(f"[bench] installing {package} with apt-get ...", flush=True)
    for attempt in ([], ["update"]):
        if attempt:
            subprocess.run(["apt-get", "update", "-qq"], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=False)
        done = subprocess.run(["apt-get", "install", "-y", "-qq", package], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        if done.returncode == 0:
            return True
    return False


WRK = "wrk"  # the binary, resolved by ensure_wrk()


def ensure_wrk() -> str:
    """wrk on PATH (or $WRK); installed with apt-get when missing, unless BENCH_NO_INSTALL=1."""
    global WRK
    path = shutil.which(os.environ.get("WRK", "wrk"))
    if (path is None and os.environ.get("BENCH_NO_INSTALL") != "1" and "WRK" not in os.environ
            and _apt_install("wrk")):
        path = shutil.which("wrk")
    if path:
        WRK = path
        return path
    raise MissingTool("wrk is not installed and could not be installed automatically. "
                      "Install it (Debian/Ubuntu: `sudo apt-get install wrk`; macOS: `brew install wrk`) "
                      "and run again.")


def wrk_version() -> str:
    done = subprocess.run([WRK, "--version"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).splitlines()[0].strip() if (done.stdout or done.stderr) else "?"


def ensure_litellm() -> Path:
    """LiteLLM's proxy in its own virtual environment (.bench/litellm-venv), installed once."""
    stamp = LITELLM_VENV / f".installed-{LITELLM_VERSION}"
    binary = LITELLM_VENV / "bin" / "litellm"
    if stamp.exists() and binary.exists():
        return binary
    print(f"[bench] creating {LITELLM_VENV.relative_to(ROOT)} with litellm[proxy]=={LITELLM_VERSION} "
          "(once; about a minute) ...", flush=True)
    SCRATCH.mkdir(exist_ok=True)
    if not (LITELLM_VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(LITELLM_VENV)], check=True)
    pip = [str(LITELLM_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    lock = HERE / "litellm-constraints.txt"
    spec = f"litellm[proxy]=={LITELLM_VERSION}"
    done = subprocess.run([*pip, "-c", str(lock), spec] if lock.exists() else [*pip, spec], check=False)
    if done.returncode != 0 and lock.exists():
        print("[bench] the locked LiteLLM dependency set did not install; retrying without the lock", flush=True)
        done = subprocess.run([*pip, spec], check=False)
    if done.returncode != 0 or not binary.exists():
        raise MissingTool(f"could not install {spec} into {LITELLM_VENV} (is PyPI reachable?)")
    stamp.touch()
    return binary


def litellm_version() -> str:
    done = subprocess.run([str(LITELLM_VENV / "bin" / "python"), "-c",
                           "import importlib.metadata as m; print(m.version('litellm'))"],
                          capture_output=True, text=True, check=False)
    return done.stdout.strip() or "?"


# -- systems ---------------------------------------------------------------------------------------

def _get(url: str, timeout: float = 2.0, headers: dict | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as failure:
        return failure.code, failure.read()


def _stop_process(process: subprocess.Popen, timeout: float = 20.0) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@dataclass
class System:
    """Something the load generator can be pointed at."""
    name: str
    label: str
    base_url: str
    api_key: str
    pids: dict[str, int] = field(default_factory=dict)  # process name -> pid (tree roots)
    served_mode_header: bool = False  # answers carry x-nextmodel-served-mode
    has_cache: bool = False

    def rss_kb(self) -> dict[str, int]:
        return {name: tree_rss_kb(pid) for name, pid in self.pids.items()}

    def cpu_seconds(self) -> dict[str, float]:
        return {name: tree_cpu_seconds(pid) for name, pid in self.pids.items()}

    def stop(self) -> None:  # pragma: no cover - overridden
        pass


class Upstream(System):
    def __init__(self, cpus: list[int], gap_ms: float, log: Path) -> None:
        self.log_handle = open(log, "wb")  # noqa: SIM115 - the process's log, closed when it stops
        with pinned_self(cpus):
            self.process = subprocess.Popen(
                [sys.executable, str(HERE / "upstream.py"), "--port", "0", "--stream-gap-ms", str(gap_ms)],
                stdout=subprocess.PIPE, stderr=self.log_handle, start_new_session=True)
        assert self.process.stdout
        line = self.process.stdout.readline().decode()
        if not line.startswith("READY "):
            _stop_process(self.process)
            raise RuntimeError(f"the fake upstream did not start: {line!r} (see {log})")
        port = int(line.split()[1])
        pin(self.process.pid, cpus)
        super().__init__("upstream", "Upstream (direct)", f"http://127.0.0.1:{port}/v1", UPSTREAM_KEY,
                         {"upstream": self.process.pid})

    def stats(self) -> dict:
        status, body = _get(self.base_url.rsplit("/v1", 1)[0] + "/stats")
        return json.loads(body) if status == 200 else {}

    def stop(self) -> None:
        _stop_process(self.process)
        self.log_handle.close()


class NextModel(System):
    """The full stack, started exactly as the end-to-end tests start it (tests/support/stack.py)."""

    def __init__(self, upstream_url: str, cpus: list[int], workdir: Path, redis_url: str | None = None,
                 name: str = "nextmodel", label: str = "NextModel", extra_env: dict[str, str] | None = None) -> None:
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        from tests.support.stack import Stack

        overrides = {
            "OPENAI_BASE_URL": upstream_url, "OPENAI_API_KEY": UPSTREAM_KEY,
            # the tests refresh the catalog every second to see changes quickly; production default is 5 s
            "NEXTMODEL_CATALOG_REFRESH_SECONDS": "5",
        }
        if redis_url:
            overrides["NEXTMODEL_REDIS_URL"] = redis_url
        overrides.update(extra_env or {})
        self.overrides = overrides
        workdir.mkdir(parents=True, exist_ok=True)
        self.stack = Stack(workdir, overrides)
        with pinned_self(cpus):
            self.stack.start()
        for process in self.stack.processes.values():
            pin(process.pid, cpus)
        super().__init__(name, label, self.stack.base_url, self.stack.dev_key,
                         {n: p.pid for n, p in self.stack.processes.items()},
                         served_mode_header=True, has_cache=True)

    def stop(self) -> None:
        self.stack.stop()

    def log_tail(self, lines: int = 40) -> str:
        return "".join(self.stack.log[-lines:])


class LiteLLM(System):
    """LiteLLM's proxy: one worker, no database, no cache, offline cost map, pointed at the upstream."""

    def __init__(self, upstream_url: str, cpus: list[int], workdir: Path, port: int) -> None:
        binary = ensure_litellm()
        workdir.mkdir(parents=True, exist_ok=True)
        config = workdir / "litellm.yaml"
        config.write_text(
            "model_list:\n"
            f"  - model_name: {MODEL}\n"
            "    litellm_params:\n"
            f"      model: openai/{MODEL}\n"
            f"      api_base: {upstream_url}\n"
            f"      api_key: {UPSTREAM_KEY}\n"
            "litellm_settings:\n"
            "  set_verbose: false\n"
            "  cache: false\n"
            "general_settings:\n"
            f"  master_key: {LITELLM_MASTER_KEY}\n")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("LITELLM_", "DATABASE_URL", "REDIS_", "OPENAI_", "OTEL_", "NEXTMODEL_"))}
        env.update({
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no fetch of the model cost map from GitHub
            "LITELLM_LOG": "ERROR",  # what LiteLLM's production guide recommends
            "LITELLM_DONT_SHOW_FEEDBACK_BOX": "true",
            "DISABLE_SCHEMA_UPDATE": "true",
            "PYTHONUNBUFFERED": "1",
        })
        self.log_path = workdir / "litellm.log"
        self.log_handle = open(self.log_path, "wb")  # noqa: SIM115 - the process's log, closed when it stops
        with pinned_self(cpus):
            self.process = subprocess.Popen(
                [str(binary), "--config", str(config), "--host", "127.0.0.1", "--port", str(port),
                 "--num_workers", "1", "--telemetry", "False"],
                cwd=workdir, env=env, stdout=self.log_handle, stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        while True:
            if self.process.poll() is not None:
                self.log_handle.close()
                raise RuntimeError("LiteLLM exited while starting:\n" + self.log_path.read_text()[-3000:])
            try:
                status, _ = _get(f"{base}/health/liveliness", timeout=1.0)
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("LiteLLM did not become ready:\n" + self.log_path.read_text()[-3000:])
            time.sleep(0.25)
        pin(self.process.pid, cpus)
        super().__init__("litellm", f"LiteLLM {LITELLM_VERSION}", f"{base}/v1", LITELLM_MASTER_KEY,
                         {"litellm": self.process.pid})

    def stop(self) -> None:
        _stop_process(self.process)
        self.log_handle.close()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""
