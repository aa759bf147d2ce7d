"""GET /readyz: 200 when the router can serve, whatever the other three say; each one's state in
the body; one shared, briefly kept check however many probes come (nextmodel_edge.readiness)."""

from __future__ import annotations

import asyncio
import socket

import httpx
from grpc_health.v1 import health_pb2

from nextmodel_common import grpc_bootstrap
from nextmodel_edge.app import create_app
from nextmodel_edge.config import EdgeSettings
from nextmodel_edge.readiness import Readiness

SERVING, NOT_SERVING = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def health_server(status: int) -> grpc_bootstrap.ServiceServer:
    server = grpc_bootstrap.create_server(lambda _: [], port=0)
    await server.start()
    await server.health.set("", status)
    return server


async def readyz(router: int, cache: int, billing: int, catalog: int) -> httpx.Response:
    settings = EdgeSettings(**{f"{name}_addr": f"127.0.0.1:{port}" for name, port in
                               {"router": router, "cache": cache, "billing": billing, "catalog": catalog}.items()})
    app = create_app(settings)
    async with (app.router.lifespan_context(app),
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://edge") as client):
        return await client.get("/readyz")


async def test_ready_while_the_router_serves_with_the_others_down_or_not_serving() -> None:
    router, billing, catalog = (await health_server(SERVING), await health_server(SERVING),
                                await health_server(NOT_SERVING))
    try:
        answer = await readyz(router.port, closed_port(), billing.port, catalog.port)
    finally:
        for server in (router, billing, catalog):
            await server.stop(0)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "ready", "checks": {"router": "ok", "cache": "unavailable", "billing": "ok",
                                                           "catalog": "not_serving"}}
    assert answer.headers["content-type"] == "application/json"


async def test_unavailable_when_the_router_cannot_serve_or_cannot_be_reached() -> None:
    not_serving, others = await health_server(NOT_SERVING), await health_server(SERVING)
    try:
        refused = await readyz(not_serving.port, others.port, others.port, others.port)
        unreachable = await readyz(closed_port(), others.port, others.port, others.port)
    finally:
        await not_serving.stop(0)
        await others.stop(0)
    assert refused.status_code == 503
    assert refused.json() == {"status": "unavailable", "checks": {"router": "not_serving", "cache": "ok",
                                                                  "billing": "ok", "catalog": "ok"}}
    assert unreachable.status_code == 503
    assert unreachable.json()["checks"] == {"router": "unavailable", "cache": "ok", "billing": "ok", "catalog": "ok"}


class FakeUpstreams:
    """Upstreams.health's answers, counted; each check takes `delay` seconds."""

    def __init__(self, answers: dict[str, str], delay: float = 0.05) -> None:
        self.answers, self.delay, self.calls, self.timeouts = answers, delay, 0, []

    async def health(self, timeout: float) -> dict[str, str]:
        self.calls += 1
        self.timeouts.append(timeout)
        await asyncio.sleep(self.delay)
        return dict(self.answers)


async def test_concurrent_probes_share_one_check_and_its_answer_is_kept_briefly() -> None:
    upstreams = FakeUpstreams({"router": "SERVING", "cache": "DEADLINE_EXCEEDED", "billing": "UNAVAILABLE",
                               "catalog": "SERVICE_UNKNOWN"})
    readiness = Readiness(upstreams, timeout=2.0, cache_seconds=0.2)
    answers = await asyncio.gather(*(readiness.check() for _ in range(20)))
    assert upstreams.calls == 1 and upstreams.timeouts == [2.0]
    assert answers == [(True, {"router": "ok", "cache": "timeout", "billing": "unavailable",
                               "catalog": "not_serving"})] * 20
    await readiness.check()
    assert upstreams.calls == 1, "kept for cache_seconds"
    await asyncio.sleep(0.25)
    upstreams.answers["router"] = "NOT_SERVING"
    ready, checks = await readiness.check()
    assert upstreams.calls == 2 and not ready and checks["router"] == "not_serving"


async def test_a_prober_that_hangs_up_does_not_cancel_the_check_the_others_wait_for() -> None:
    upstreams = FakeUpstreams({"router": "SERVING", "cache": "SERVING", "billing": "SERVING", "catalog": "SERVING"},
                              delay=0.1)
    readiness = Readiness(upstreams, timeout=2.0)
    impatient = asyncio.create_task(readiness.check())
    patient = asyncio.create_task(readiness.check())
    await asyncio.sleep(0.02)
    impatient.cancel()
    ready, _ = await patient
    assert ready and upstreams.calls == 1
