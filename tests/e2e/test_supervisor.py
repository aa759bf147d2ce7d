"""`nextmodel run` must fail loudly, and stop everything, when a service cannot start."""

from __future__ import annotations

import socket
import subprocess
import sys

import httpx
import pytest

from tests.support.stack import Stack

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
