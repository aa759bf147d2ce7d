"""Faults under traffic: each test runs the real processes, breaks one part while requests flow,
and checks what NextModel promises for it (docs/operations.md, "Faults and what NextModel promises").

The SQLite stack of this module has short clocks so the faults play out in seconds: a 1 s
first-byte timeout, a 1 s authentication cache, a 3 s stale-key window and a 1 s drain.
The Redis and PostgreSQL tests restart this machine's own servers (CI's), and always leave
them running.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from tests.conftest import provider_env
from tests.support.accounts import new_account
from tests.support.stack import Stack, Traffic, eventually

pytestmark = pytest.mark.e2e

AUTH_CACHE_SECONDS = 1
AUTH_STALE_SECONDS = 3


@pytest.fixture(scope="module")
def _faults_stack(fake_upstream, tmp_path_factory):
    running = Stack(tmp_path_factory.mktemp("faults"), {
        **provider_env(fake_upstream),
        "NEXTMODEL_UPSTREAM_FIRST_BYTE_TIMEOUT": "1",
        "NEXTMODEL_AUTH_CACHE_TTL_SECONDS": str(AUTH_CACHE_SECONDS),
        "NEXTMODEL_AUTH_STALE_SECONDS": str(AUTH_STALE_SECONDS),
        "NEXTMODEL_SHUTDOWN_GRACE_SECONDS": "1",
    }).start()
    yield running
    running.stop()


@pytest.fixture
def stack(_faults_stack):
    """This module's stack (its name lets conftest show its log when a test fails); whatever a
    test stopped is started again afterwards."""
    yield _faults_stack
    _faults_stack.ensure_running()


@pytest.fixture(scope="module")
def _prod_faults_stack(fake_upstream, tmp_path_factory, session_postgres_url, redis_url):
    running = Stack(tmp_path_factory.mktemp("prod-faults"), {
        **provider_env(fake_upstream), "NEXTMODEL_DATABASE_URL": session_postgres_url,
        "NEXTMODEL_REDIS_URL": redis_url, "NEXTMODEL_UPSTREAM_FIRST_BYTE_TIMEOUT": "2",
    }).start()
    yield running
    running.stop()


@pytest.fixture
def prod_stack(_prod_faults_stack):
    yield _prod_faults_stack
    _prod_faults_stack.ensure_running()


# -- helpers -------------------------------------------------------------------------------

def auth(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def chat(stack: Stack, key: str, content: str, *, headers: dict | None = None, **fields) -> httpx.Response:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}], **fields}
    return httpx.post(f"{stack.base_url}/chat/completions", json=body, headers={**auth(key), **(headers or {})},
                      timeout=30)


def _error(response: httpx.Response) -> dict:
    return response.json()["error"]


def receipts(stack: Stack, key: str) -> list[dict]:
    """Every receipt of the key's project, from billing (empty while billing does not answer)."""
    try:
        answer = httpx.get(f"{stack.base_url}/usage/export", params={"format": "jsonl"}, headers=auth(key),
                           timeout=10)
    except httpx.HTTPError:
        return []
    return [json.loads(line) for line in answer.text.splitlines()] if answer.status_code == 200 else []


def settled_once(stack: Stack, key: str, request_ids: list[str], timeout: float = 20.0) -> dict[str, dict]:
    """Wait until every request id has its receipt; then each must have exactly one."""
    def complete():
        rows = receipts(stack, key)
        return rows if {row["request_id"] for row in rows} >= set(request_ids) else None

    rows = eventually(complete, timeout=timeout, interval=0.2, what=f"receipts of {len(request_ids)} requests")
    counted = [row["request_id"] for row in rows]
    assert sorted(counted) == sorted(set(counted)), "a request was counted twice"
    assert set(counted) == set(request_ids), "a receipt for a request that was not served"
    return {row["request_id"]: row for row in rows}


def stream_through(stack: Stack, key: str, content: str, *, cut_after: int, cut) -> tuple[httpx.Headers, list[str]]:
    """Stream a chat completion; after `cut_after` data events run `cut` (in a thread) and read on.

    Reading to the end must succeed: the connection ends cleanly whatever happened behind it
    (a reset or a truncated chunked body raises here and fails the test)."""
    body = {"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": content}]}
    events: list[str] = []
    worker = None
    with httpx.stream("POST", f"{stack.base_url}/chat/completions", json=body, headers=auth(key),
                      timeout=httpx.Timeout(15.0)) as response:
        assert response.status_code == 200, response.read()
        for line in response.iter_lines():
            if line.startswith("data: "):
                events.append(line[6:])
                if len(events) == cut_after:
                    worker = threading.Thread(target=cut)
                    worker.start()
        headers = response.headers
    if worker is not None:
        worker.join()
    return headers, events


LONG_ANSWER = " ".join(f"w{i}" for i in range(80))  # the fake echoes it: 80 and more chunks


# -- 1. catalog ---------------------------------------------------------------------------

def test_with_the_catalog_down_the_router_keeps_routing_on_its_copy(stack) -> None:
    account = new_account(stack)
    with Traffic(stack.base_url, account.key, workers=2) as traffic:
        traffic.wait_for(4)
        stack.stop_service("catalog", signal.SIGKILL)
        down = time.monotonic()
        time.sleep(1.5)  # over the router's refresh period (1 s here): its polls fail, its copy stays
        models = httpx.get(f"{stack.base_url}/models", headers=auth(account.key), timeout=10)
        up = time.monotonic()
        stack.start_service("catalog")
        served_before_up = traffic.served()
        traffic.wait_for(served_before_up + 4)
    assert not traffic.failures(), traffic.failures()[:3]
    during = [a for a in traffic.snapshot() if a.started > down and a.ended < up]
    print(f"\ncatalog down: {len(during)} requests served during the outage, 0 failed")
    assert len(during) >= 4, "requests were served while the catalog was down"
    assert models.status_code == 200
    assert "gpt-4o-mini" in {model["id"] for model in models.json()["data"]}
    assert any("catalog refresh failed" in line for line in stack.log), "the router did notice the outage"


def test_a_router_started_while_the_catalog_is_down_can_route(stack) -> None:
    account = new_account(stack)
    stack.stop_service("catalog", signal.SIGKILL)
    stack.restart_service("router")  # a rollout or a crash while the catalog is down
    deadline = time.monotonic() + 3  # the edge reconnects to the new router process within moments
    answer = chat(stack, account.key, "a fresh router, no catalog")
    while answer.status_code == 503 and _error(answer)["code"] == "service_unavailable" and time.monotonic() < deadline:
        time.sleep(0.1)
        answer = chat(stack, account.key, "a fresh router, no catalog")
    # It routes on the snapshot the previous router process saved beside its outbox.
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-nextmodel-served-mode"] == "fresh"
    assert any("catalog snapshot installed" in line and "saved file" in line for line in stack.log)


def _router_health(port: int, service: str = "") -> int | None:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            return health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service),
                                                             timeout=1.0).status
        except grpc.RpcError:
            return None  # not listening yet


def test_a_new_router_pod_is_not_ready_until_it_has_a_catalog(stack) -> None:
    """A router with an empty data volume (a new pod) started during a catalog outage says
    NOT_SERVING, so Kubernetes sends it nothing it could only refuse; it turns SERVING once the
    catalog is back."""
    from grpc_health.v1 import health_pb2

    from tests.support.stack import free_port

    stack.stop_service("catalog", signal.SIGKILL)
    port, volume = free_port(), stack.workdir / "new-router-pod"
    env = {**stack.env(), "NEXTMODEL_ROUTER_PORT": str(port),
           "NEXTMODEL_ROUTER_OUTBOX_PATH": str(volume / "router-outbox.db")}
    with open(stack.workdir / "service-router@new-pod.log", "wb") as log:  # the suite's log scan reads it
        router = subprocess.Popen([sys.executable, "-m", "nextmodel_router.server"], cwd=stack.workdir, env=env,
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            eventually(lambda: _router_health(port) is not None, what="the new router listening")
            time.sleep(0.5)  # a few catalog polls fail meanwhile
            assert _router_health(port) == health_pb2.HealthCheckResponse.NOT_SERVING
            stack.start_service("catalog")
            eventually(lambda: _router_health(port) == health_pb2.HealthCheckResponse.SERVING,
                       what="the new router turning SERVING once the catalog is back")
            assert (volume / "router-catalog.pb").exists(), "and it saved the catalog for its next start"
        finally:
            router.terminate()
            router.wait(timeout=30)


def readyz(stack) -> httpx.Response:
    return httpx.get(f"{stack.edge_url}/readyz", timeout=10)


def readyz_once(stack, until) -> httpx.Response:
    """The first /readyz answer for which `until(answer)` holds (an answer is kept for a second)."""

    def check():
        answer = readyz(stack)
        return answer if until(answer) else None

    return eventually(check, timeout=5, what="/readyz changing")


@pytest.mark.parametrize("service", ["cache", "catalog", "billing"])
def test_the_edge_stays_ready_while_a_service_off_the_request_path_is_down(stack, service) -> None:
    """On Kubernetes the edge's readiness probe is /readyz: an outage of a service the router
    serves without must not take the edges out of the Service. /readyz names what is down."""
    account = new_account(stack)
    everything_ok = dict.fromkeys(("router", "cache", "billing", "catalog"), "ok")
    # Billing vouches for the key now, so it is still served while billing is down.
    assert chat(stack, account.key, f"before the {service} outage", temperature=0).status_code == 200
    stack.stop_service(service, signal.SIGKILL)
    served = chat(stack, account.key, f"while the {service} is down", temperature=0)  # cacheable
    assert served.status_code == 200, served.text
    assert served.headers["x-nextmodel-served-mode"] == "fresh"
    if service == "cache":
        assert served.headers["x-nextmodel-cache-status"] == "unavailable"
    ready = readyz_once(stack, lambda answer: answer.json()["checks"][service] != "ok")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready", "checks": {**everything_ok, service: "unavailable"}}
    stack.start_service(service)
    readyz_once(stack, lambda answer: answer.json()["checks"] == everything_ok)  # the edge found it again


def test_the_edge_is_not_ready_while_the_router_is_down(stack) -> None:
    account = new_account(stack)
    stack.stop_service("router", signal.SIGKILL)
    refused = readyz_once(stack, lambda answer: answer.status_code == 503)
    assert refused.json() == {"status": "unavailable", "checks": {"router": "unavailable", "cache": "ok",
                                                                  "billing": "ok", "catalog": "ok"}}
    answer = chat(stack, account.key, "no router to serve it")
    assert answer.status_code == 503 and _error(answer)["code"] == "service_unavailable"
    stack.start_service("router")
    assert readyz_once(stack, lambda answer: answer.status_code == 200).json()["checks"]["router"] == "ok"


def test_a_router_whose_outbox_file_is_gone_is_not_ready_until_it_is_back(stack) -> None:
    """A router that could not keep the usage of what it serves reports NOT_SERVING (its readiness
    probe takes it out of rotation) but stays alive (its liveness name says SERVING)."""
    from grpc_health.v1 import health_pb2

    from tests.support.stack import free_port

    port, volume = free_port(), stack.workdir / "router-outbox-gone"
    outbox = volume / "router-outbox.db"
    env = {**stack.env(), "NEXTMODEL_ROUTER_PORT": str(port), "NEXTMODEL_ROUTER_OUTBOX_PATH": str(outbox)}
    with open(stack.workdir / "service-router@outbox-gone.log", "wb") as log:  # the suite's log scan reads it
        router = subprocess.Popen([sys.executable, "-m", "nextmodel_router.server"], cwd=stack.workdir, env=env,
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            eventually(lambda: _router_health(port) == health_pb2.HealthCheckResponse.SERVING,
                       what="the router turning SERVING")
            outbox.rename(volume / "moved.db")  # as a volume swapped or wiped under a running pod
            eventually(lambda: _router_health(port) == health_pb2.HealthCheckResponse.NOT_SERVING, timeout=10,
                       what="the router noticing its outbox file is gone")
            assert _router_health(port, "liveness") == health_pb2.HealthCheckResponse.SERVING
            (volume / "moved.db").rename(outbox)
            eventually(lambda: _router_health(port) == health_pb2.HealthCheckResponse.SERVING, timeout=10,
                       what="the router SERVING again once the file is back")
        finally:
            router.terminate()
            router.wait(timeout=30)


# -- 2. cache ------------------------------------------------------------------------------

def three_cacheable_questions(prefix: str):
    """A Traffic body: the workers cycle over three cacheable questions, so hits come quickly."""
    questions = [f"{prefix} {n}" for n in range(3)]

    def body(worker: int, index: int) -> dict:
        return {"model": "gpt-4o-mini", "temperature": 0,
                "messages": [{"role": "user", "content": questions[(worker + index) % 3]}]}

    return body


def cache_hit_after(traffic: Traffic, moment: float) -> bool:
    return any(a.started > moment and a.headers.get("x-nextmodel-cache-status") == "hit"
               for a in traffic.snapshot())


def test_with_the_cache_down_concurrent_requests_go_fresh_and_say_so(stack) -> None:
    account = new_account(stack)
    body = three_cacheable_questions("cache fault question")

    with Traffic(stack.base_url, account.key, workers=4, body=body) as traffic:
        eventually(lambda: cache_hit_after(traffic, 0), timeout=10, what="a cache hit before the fault")
        stack.stop_service("cache", signal.SIGKILL)
        down = time.monotonic()
        time.sleep(1.0)
        up = time.monotonic()
        stack.start_service("cache")
        eventually(lambda: cache_hit_after(traffic, up), timeout=15, what="a cache hit after the cache came back")
    assert not traffic.failures(), traffic.failures()[:3]
    during = [a for a in traffic.snapshot() if a.started > down and a.ended < up]
    print(f"\ncache down: {len(during)} requests served fresh during the outage, 0 failed")
    assert len(during) >= 8
    assert {(a.headers["x-nextmodel-served-mode"], a.headers["x-nextmodel-cache-status"]) for a in during} == \
        {("fresh", "unavailable")}


# -- 3. billing ------------------------------------------------------------------------------

def test_with_billing_down_seen_keys_keep_working_for_a_while_and_the_rest_get_503(stack) -> None:
    seen, budgeted, never = new_account(stack), new_account(stack), new_account(stack)
    with stack.admin() as admin:
        budget = admin.put("/admin/v1/budgets", json={"scope": "key", "scope_id": budgeted.key_id,
                                                      "period": "daily", "limit_usd": "100"})
        assert budget.status_code == 200, budget.text
    first = chat(stack, seen.key, "before the outage")
    assert first.status_code == 200
    assert chat(stack, budgeted.key, "budgeted before the outage").status_code == 200
    authenticated = time.monotonic()  # the last time billing vouched for these keys
    stack.stop_service("billing", signal.SIGKILL)
    time.sleep(AUTH_CACHE_SECONDS + 0.3)  # past the authentication cache: the stale rule decides now

    served = [chat(stack, seen.key, f"while billing is down {n}") for n in range(3)]
    assert [r.status_code for r in served] == [200] * 3, "a key seen recently keeps working"
    unknown = chat(stack, never.key, "a key billing never vouched for")
    assert unknown.status_code == 503
    assert unknown.json()["error"]["code"] == "service_unavailable"
    refused = chat(stack, budgeted.key, "a key with a budget")
    assert refused.status_code == 503, "a budget cannot be checked, so the reservation fails closed"
    assert refused.json()["error"]["code"] == "billing_unavailable"

    time.sleep(max(0.0, authenticated + AUTH_CACHE_SECONDS + AUTH_STALE_SECONDS + 0.3 - time.monotonic()))
    expired = chat(stack, seen.key, "after the stale window")
    assert expired.status_code == 503, "past NEXTMODEL_AUTH_STALE_SECONDS a seen key is refused too"

    stack.start_service("billing")
    request_ids = [r.headers["x-request-id"] for r in [first, *served]]
    rows = settled_once(stack, seen.key, request_ids)
    assert all(rows[rid]["status"] == "ok" for rid in request_ids)
    assert chat(stack, budgeted.key, "budgeted after the outage").status_code == 200


# -- 4. Redis ----------------------------------------------------------------------------------

REDIS_START = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
               "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log"]


def _redis_answers() -> bool:
    ping = subprocess.run(["redis-cli", "-p", "6379", "ping"], capture_output=True, text=True, timeout=5)
    return ping.stdout.strip() == "PONG"


def _ensure_redis_running() -> None:
    if not _redis_answers():
        subprocess.run(REDIS_START, check=True, capture_output=True, timeout=10)
    eventually(_redis_answers, timeout=20, interval=0.1, what="Redis answering PING")


def _own_redis(redis_url: str) -> None:
    parsed = urlparse(redis_url)
    if (parsed.hostname, parsed.port or 6379) != ("127.0.0.1", 6379):
        pytest.skip(f"restarts only this machine's Redis at 127.0.0.1:6379, not {parsed.hostname}:{parsed.port}")
    if not (shutil.which("redis-server") and shutil.which("redis-cli")):
        pytest.skip("redis-server/redis-cli are not on PATH")


def test_redis_restarted_during_traffic_degrades_to_fresh_then_caches_again(prod_stack, redis_url) -> None:
    _own_redis(redis_url)
    stack = prod_stack
    # A request limit, so every request also counts in Redis (the shared rate-limit counters); while
    # Redis is down the limiter admits, so these requests keep being served.
    account = new_account(stack, requests_per_minute=100_000)
    body = three_cacheable_questions("redis fault question")

    with Traffic(stack.base_url, account.key, workers=4, body=body) as traffic:
        eventually(lambda: cache_hit_after(traffic, 0), timeout=10, what="a cache hit before the fault")
        try:
            subprocess.run(["redis-cli", "-p", "6379", "shutdown", "nosave"], capture_output=True, timeout=10)
            down = time.monotonic()
            eventually(lambda: not _redis_answers(), timeout=5, what="Redis stopping")
            time.sleep(1.5)
            up = time.monotonic()
        finally:
            _ensure_redis_running()
        eventually(lambda: cache_hit_after(traffic, up), timeout=15, what="a cache hit after Redis came back")
    assert not traffic.failures(), traffic.failures()[:3]
    during = [a for a in traffic.snapshot() if a.started > down + 0.2 and a.ended < up]
    print(f"\nRedis down: {len(during)} requests served fresh during the outage, 0 failed")
    assert len(during) >= 8, "requests were served while Redis was down"
    assert {(a.headers["x-nextmodel-served-mode"], a.headers["x-nextmodel-cache-status"]) for a in during} == \
        {("fresh", "unavailable")}
    counters = subprocess.run(["redis-cli", "-p", "6379", "--scan", "--pattern", f"nm:rl:{account.key_id}:*"],
                              capture_output=True, text=True, timeout=5).stdout.split()
    assert counters, "the rate-limit counters are kept in Redis again"


# -- 5. PostgreSQL -------------------------------------------------------------------------------

def _pg_version() -> str | None:
    versions = sorted(Path("/etc/postgresql").iterdir()) if Path("/etc/postgresql").is_dir() else []
    return versions[0].name if len(versions) == 1 and shutil.which("pg_ctlcluster") else None


def _pg_accepts(server_url: str) -> bool:
    import asyncpg

    async def probe() -> bool:
        try:
            connection = await asyncpg.connect(server_url.replace("postgresql+asyncpg://", "postgresql://"),
                                               timeout=2)
        except (TimeoutError, OSError, asyncpg.PostgresError):
            return False
        try:
            return await connection.fetchval("SELECT 1") == 1
        finally:
            await connection.close()

    return asyncio.run(probe())


def _pg_ctl(version: str, action: str) -> None:
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action], check=True,
                   capture_output=True, timeout=60)


def _own_postgresql(server_url: str) -> str:
    parsed = urlparse(server_url.replace("postgresql+asyncpg", "postgresql"))
    version = _pg_version()
    if (parsed.hostname, parsed.port or 5432) not in {("127.0.0.1", 5432), ("localhost", 5432)} or not version:
        pytest.skip("restarts only this machine's own PostgreSQL cluster (127.0.0.1:5432, pg_ctlcluster)")
    return version


def _ensure_pg_running(version: str, server_url: str) -> None:
    if not _pg_accepts(server_url):
        _pg_ctl(version, "start")
    eventually(lambda: _pg_accepts(server_url), timeout=30, interval=0.2, what="PostgreSQL accepting connections")


def test_postgresql_restarted_during_traffic_serves_on_and_settles_each_request_once(
        prod_stack, postgres_server_url) -> None:
    version = _own_postgresql(postgres_server_url)
    stack = prod_stack
    account = new_account(stack)
    with Traffic(stack.base_url, account.key, workers=4) as traffic:
        traffic.wait_for(8)
        try:
            restarting = time.monotonic()
            _pg_ctl(version, "restart")
            restarted = time.monotonic()
        finally:
            _ensure_pg_running(version, postgres_server_url)
        traffic.wait_for(traffic.served() + 8)
    assert not traffic.failures(), traffic.failures()[:3]
    across = [a for a in traffic.snapshot() if restarting <= a.started <= restarted]
    served = [a.headers["x-request-id"] for a in traffic.snapshot() if a.ok]
    settled_once(stack, account.key, served, timeout=30)
    print(f"\nPostgreSQL restart: {restarted - restarting:.1f} s, {len(across)} requests started during it, "
          f"{len(served)} served in all, each settled once")


def test_while_postgresql_is_down_unknown_and_budgeted_keys_get_503(prod_stack, postgres_server_url) -> None:
    version = _own_postgresql(postgres_server_url)
    stack = prod_stack
    never, budgeted = new_account(stack), new_account(stack)
    with stack.admin() as admin:
        assert admin.put("/admin/v1/budgets", json={"scope": "key", "scope_id": budgeted.key_id, "period": "daily",
                                                    "limit_usd": "100"}).status_code == 200
    assert chat(stack, budgeted.key, "budgeted before the outage").status_code == 200
    try:
        _pg_ctl(version, "stop")
        unknown = chat(stack, never.key, "a key billing cannot look up")
        refused = chat(stack, budgeted.key, "a budget billing cannot check")
    finally:
        _ensure_pg_running(version, postgres_server_url)
    assert refused.status_code == 503 and _error(refused)["code"] == "billing_unavailable"
    # Billing answers a database it cannot reach with UNAVAILABLE: a 503 the client may retry.
    assert unknown.status_code == 503 and _error(unknown)["code"] == "storage_unavailable"


# -- 6. upstream faults ------------------------------------------------------------------------

def test_an_upstream_that_hangs_is_cut_at_the_first_byte_timeout(stack, fake_upstream) -> None:
    account = new_account(stack)
    fake_upstream.delay_next(1.8)
    started = time.monotonic()
    hung = chat(stack, account.key, "hang please")
    assert hung.status_code == 504 and time.monotonic() - started < 1.8
    assert _error(hung)["code"] == "upstream_timeout" and "openai" in _error(hung)["message"]

    fake_upstream.delay_next(1.8)
    fell_back = chat(stack, account.key, "hang then fall back", headers={"x-nextmodel-policy": "reliable-chat"})
    assert fell_back.status_code == 200 and fell_back.headers["x-nextmodel-provider"] == "deepseek"
    attempts = fell_back.json()["nextmodel"]["attempts"]
    assert [(a["provider"], a["outcome"]) for a in attempts] == [("openai", "timeout"), ("deepseek", "ok")]

    fake_upstream.delay_next(1.8)
    body = {"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "hang a stream"}]}
    with httpx.stream("POST", f"{stack.base_url}/chat/completions", json=body, headers=auth(account.key),
                      timeout=15) as response:
        response.read()
    assert response.status_code == 504, "before the first byte a stream fails as a plain HTTP error"

    fake_upstream.slow_next_stream(1.8)  # the first chunk comes, then the provider stalls
    _, events = stream_through(stack, account.key, "stall mid stream", cut_after=-1, cut=lambda: None)
    error = json.loads(events[-1])["error"]
    assert error["code"] == "upstream_timeout" and "openai" in error["message"], "after it, an error event"


def test_an_upstream_that_resets_the_connection(stack, fake_upstream) -> None:
    account = new_account(stack)
    resets = fake_upstream.reset_connections
    fake_upstream.reset_next()
    reset = chat(stack, account.key, "reset please")
    assert reset.status_code == 502
    assert _error(reset)["code"] == "upstream_error" and "Provider openai" in _error(reset)["message"]

    fake_upstream.reset_next()
    fell_back = chat(stack, account.key, "reset then fall back", headers={"x-nextmodel-policy": "reliable-chat"})
    assert fell_back.status_code == 200 and fell_back.headers["x-nextmodel-provider"] == "deepseek"
    attempts = fell_back.json()["nextmodel"]["attempts"]
    assert [(a["provider"], a["outcome"]) for a in attempts] == [("openai", "connect"), ("deepseek", "ok")]
    assert fake_upstream.reset_connections == resets + 2


def test_a_stream_broken_halfway_ends_with_an_error_event_and_bills_what_came(stack, fake_upstream) -> None:
    account = new_account(stack)
    fake_upstream.break_next_stream(after_events=6)
    headers, events = stream_through(stack, account.key, LONG_ANSWER, cut_after=-1, cut=lambda: None)
    assert events[-1] != "[DONE]"
    error = json.loads(events[-1])["error"]
    assert error["code"] == "upstream_error" and "openai" in error["message"]
    assert len(events) > 3, "the chunks before the break reached the client"
    row = settled_once(stack, account.key, [headers["x-request-id"]])[headers["x-request-id"]]
    assert row["status"] == "upstream_error" and row["completion_tokens"] > 0


# -- 7. the router stopped during a stream -------------------------------------------------------

def _outbox_request_ids(stack: Stack) -> set[str]:
    """What a stopped router left in its outbox file for its next start."""
    db = sqlite3.connect(stack.workdir / ".data" / "router-outbox.db")
    try:
        return {row[0] for row in db.execute("SELECT request_id FROM outbox")}
    finally:
        db.close()


@pytest.mark.parametrize("billing", ["up", "down"])
def test_a_graceful_router_stop_ends_a_stream_cleanly_and_settles_what_it_produced(
        stack, fake_upstream, billing) -> None:
    account = new_account(stack)
    before = chat(stack, account.key, "so the router knows the key")
    assert before.status_code == 200
    if billing == "down":  # the settlement must then wait in the outbox, not be lost with the process
        stack.stop_service("billing", signal.SIGKILL)
    fake_upstream.slow_next_stream(0.1)  # 8 s of answer; the router's drain grace is 1 s
    started = time.monotonic()
    headers, events = stream_through(stack, account.key, LONG_ANSWER, cut_after=3,
                                     cut=lambda: stack.stop_service("router", signal.SIGTERM))
    assert time.monotonic() - started < 5, "the stream ended at the end of the grace, not of the answer"
    assert events[-1] != "[DONE]" and len(events) > 3
    error = json.loads(events[-1])["error"]
    assert error["code"] == "service_unavailable" and error["type"] == "server_error"
    assert not stack.running("router")
    if billing == "down":
        assert headers["x-request-id"] in _outbox_request_ids(stack), "the stopped router kept it on disk"
        stack.start_service("billing")
    stack.start_service("router")
    request_id = headers["x-request-id"]
    row = settled_once(stack, account.key, [before.headers["x-request-id"], request_id])[request_id]
    assert row["status"] == "client_cancelled" and row["usage_source"] == "estimated"
    assert 0 < row["completion_tokens"] < 80, "what was produced before the stop, no more"


def test_a_router_crash_during_a_stream_ends_it_with_an_error_event(stack, fake_upstream) -> None:
    account = new_account(stack)
    fake_upstream.slow_next_stream(0.1)
    headers, events = stream_through(stack, account.key, LONG_ANSWER, cut_after=3,
                                     cut=lambda: stack.stop_service("router", signal.SIGKILL))
    assert events[-1] != "[DONE]"
    assert json.loads(events[-1])["error"]["code"] == "service_unavailable"
    stack.ensure_running()
    assert chat(stack, account.key, "after the crash").status_code == 200
    # The restarted router found the stream's open record in its outbox and settled it.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        settled = {row["request_id"]: row for row in receipts(stack, account.key)}
        if headers["x-request-id"] in settled:
            break
        time.sleep(0.2)
    receipt = settled[headers["x-request-id"]]
    assert receipt["status"] == "interrupted" and receipt["usage_source"] == "estimated"
    assert receipt["prompt_tokens"] > 0 and receipt["id"] == headers["x-nextmodel-receipt-id"]
