"""Graceful stops and rolling restarts: SIGTERM on a service finishes what it has in flight
within its grace and takes nothing new, so a rolling deploy under load drops no request
(docs/operations.md, "Faults and what NextModel promises")."""

from __future__ import annotations

import json
import signal
import threading
import time

import httpx
import pytest

from tests.conftest import provider_env
from tests.support.accounts import new_account
from tests.support.stack import Stack, Traffic, eventually, free_port

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def _rollout_stack(fake_upstream, tmp_path_factory):
    running = Stack(tmp_path_factory.mktemp("rollout"), {
        **provider_env(fake_upstream), "NEXTMODEL_SHUTDOWN_GRACE_SECONDS": "5"}).start()
    yield running
    running.stop()


@pytest.fixture
def stack(_rollout_stack):
    yield _rollout_stack
    _rollout_stack.ensure_running()


@pytest.fixture
def slow_upstream(fake_upstream):
    """Every answer takes 0.1 s, so requests are always in flight when a process is stopped."""
    fake_upstream.latency = 0.1
    yield fake_upstream
    fake_upstream.latency = 0.0


def auth(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def chat(stack: Stack, key: str, content: str) -> httpx.Response:
    return httpx.post(f"{stack.base_url}/chat/completions", headers=auth(key), timeout=30,
                      json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}]})


def receipt_ids(stack: Stack, key: str) -> list[str]:
    answer = httpx.get(f"{stack.base_url}/usage/export", params={"format": "jsonl"}, headers=auth(key), timeout=10)
    return [json.loads(line)["request_id"] for line in answer.text.splitlines()] if answer.status_code == 200 else []


def settled_once(stack: Stack, key: str, request_ids: list[str], timeout: float = 20.0) -> None:
    counted = eventually(lambda: (ids := receipt_ids(stack, key)) and set(ids) >= set(request_ids) and ids,
                         timeout=timeout, interval=0.2, what=f"receipts of {len(request_ids)} requests")
    assert sorted(counted) == sorted(request_ids), "each served request has exactly one receipt"


def test_a_rolling_restart_of_two_router_replicas_under_load_drops_no_request(stack, slow_upstream) -> None:
    port_a, port_b = stack.ports["router"], free_port()
    replica_b = f"router@{port_b}"
    stack.start_replica("router", port_b, {})
    stack.wait_routing(replica_b)
    # The edge is given both replicas, as a client of a headless Service would see the pods.
    stack.restart_service("edge", extra_env={"NEXTMODEL_ROUTER_ADDR": f"ipv4:127.0.0.1:{port_a},127.0.0.1:{port_b}"})
    try:
        account = new_account(stack)

        def body(worker: int, index: int) -> dict:  # three workers ask, one streams
            return {"model": "gpt-4o-mini", "stream": worker == 3,
                    "messages": [{"role": "user", "content": f"rollout {worker}.{index}"}]}

        with Traffic(stack.base_url, account.key, workers=4, body=body) as traffic:
            traffic.wait_for(8)
            began = time.monotonic()
            assert stack.stop_service("router", signal.SIGTERM) == 0  # replica A drains and exits
            stack.start_service("router")  # the new A
            stack.wait_routing("router")
            time.sleep(1.0)  # as a rollout waits for the new pod to be ready and in the endpoints
            assert stack.stop_service(replica_b, signal.SIGTERM) == 0  # then replica B
            stack.start_replica("router", port_b, {})
            stack.wait_routing(replica_b)
            ended = time.monotonic()
            traffic.wait_for(traffic.served() + 8)
        failures = traffic.failures()
        # A call that reaches a router in the instant its gRPC server shuts down, before it was
        # handed to the application, is cancelled by gRPC itself: the edge answers 500 "(CANCELLED)".
        shutdown_race = [a for a in failures if "The router service failed (CANCELLED)" in a.error]
        assert not [a for a in failures if a not in shutdown_race], failures[:3]
        during = [a for a in traffic.snapshot() if a.started >= began and a.ended <= ended]
        streams = [a for a in during if a.worker == 3 and a.ok]
        print(f"\nrolling restart of 2 router replicas: {sum(a.ok for a in during)} requests served in "
              f"{ended - began:.1f} s ({len(streams)} of them streams), {len(failures)} failed")
        assert sum(a.ok for a in during) >= 20 and streams
        served = [a.headers["x-request-id"] for a in traffic.snapshot() if a.ok]
        settled_once(stack, account.key, served)
        if shutdown_race:
            pytest.xfail(f"known gap: {len(shutdown_race)} request(s) cancelled by gRPC as a router shut down; "
                         "the fix is a retry policy on the edge's router channel (docs/operations.md)")
    finally:
        stack.stop_service(replica_b)
        stack.restart_service("edge")


@pytest.mark.parametrize("service", ["router", "billing", "cache", "catalog", "edge"])
def test_a_request_in_flight_when_its_service_gets_sigterm_completes(stack, fake_upstream, service) -> None:
    account = new_account(stack)
    warm = chat(stack, account.key, "before the stop")
    assert warm.status_code == 200
    fake_upstream.delay_next(1.0)
    answers: list[httpx.Response] = []
    request = threading.Thread(target=lambda: answers.append(chat(stack, account.key, "in flight")))
    request.start()
    eventually(lambda: fake_upstream.last.body["messages"][0]["content"] == "in flight", timeout=5,
               interval=0.01, what="the request reaching the upstream")
    stopped = time.monotonic()
    code = stack.stop_service(service, signal.SIGTERM)
    request.join()
    # uvicorn re-raises the SIGTERM it caught once its graceful shutdown is done; the others exit 0.
    assert code == (-signal.SIGTERM if service == "edge" else 0), f"{service} exited by itself after draining"
    assert answers and answers[0].status_code == 200, answers and answers[0].text
    assert time.monotonic() - stopped < 5
    stack.start_service(service)
    settled_once(stack, account.key, [warm.headers["x-request-id"], answers[0].headers["x-request-id"]])
