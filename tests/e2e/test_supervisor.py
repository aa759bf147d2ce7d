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


def test_readyz_is_503_when_a_service_is_missing(stack) -> None:
    from fastapi.testclient import TestClient

    from nextmodel_edge.app import create_app
    from nextmodel_edge.config import EdgeSettings

    settings = EdgeSettings(router_addr=stack.addr("router"), cache_addr="127.0.0.1:9",
                            billing_addr=stack.addr("billing"), catalog_addr=stack.addr("catalog"))
    with TestClient(create_app(settings)) as edge:
        answer = edge.get("/readyz")
    assert answer.status_code == 503
    services = answer.json()["services"]
    assert services["cache"] == "UNAVAILABLE" and services["router"] == "SERVING"
