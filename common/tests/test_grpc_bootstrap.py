"""A service that is not ready yet says NOT_SERVING until it is, follows a readiness check both
ways, never says SERVING after a stop, and answers SERVING for `liveness` whatever its readiness."""

import asyncio

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from nextmodel_common import grpc_bootstrap

SERVING, NOT_SERVING = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING


async def status(port: int, service: str = "") -> int:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        answer = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service),
                                                                 timeout=2)
        return answer.status


async def turns(port: int, expected: int, within: float = 2.0) -> bool:
    for _ in range(int(within / 0.01)):
        if await status(port) == expected:
            return True
        await asyncio.sleep(0.01)
    return False


async def test_health_follows_readiness_and_stop() -> None:
    server = grpc_bootstrap.create_server(lambda _: [], port=0)
    ready = asyncio.Event()
    await server.start(ready=ready)
    try:
        assert await status(server.port) == health_pb2.HealthCheckResponse.NOT_SERVING
        ready.set()
        for _ in range(100):
            if await status(server.port) == health_pb2.HealthCheckResponse.SERVING:
                break
            await asyncio.sleep(0.01)
        assert await status(server.port) == health_pb2.HealthCheckResponse.SERVING
    finally:
        await server.stop(0)


async def test_a_stop_before_readiness_never_turns_serving() -> None:
    server = grpc_bootstrap.create_server(lambda _: [], port=0)
    ready = asyncio.Event()
    await server.start(ready=ready)
    await server.stop(0)
    ready.set()
    await asyncio.sleep(0.05)
    assert server.health._server_status[""] == health_pb2.HealthCheckResponse.NOT_SERVING


async def test_health_follows_a_readiness_check_both_ways_and_liveness_stays_serving() -> None:
    server = grpc_bootstrap.create_server(lambda _: [], port=0)
    answer = {"ready": False, "asked": 0}

    async def ready() -> bool:
        answer["asked"] += 1
        if answer["ready"] is None:
            raise RuntimeError("a check that breaks")
        return answer["ready"]

    await server.start(ready=ready, recheck_seconds=0.05)
    try:
        assert answer["asked"] == 1, "asked once before the first answer"
        assert await status(server.port) == NOT_SERVING
        assert await status(server.port, grpc_bootstrap.LIVENESS) == SERVING
        answer["ready"] = True
        assert await turns(server.port, SERVING)
        answer["ready"] = False  # e.g. the router's outbox stops taking writes
        assert await turns(server.port, NOT_SERVING)
        assert await status(server.port, grpc_bootstrap.LIVENESS) == SERVING, "not ready is not dead"
        answer["ready"] = True
        assert await turns(server.port, SERVING)
        answer["ready"] = None
        assert await turns(server.port, NOT_SERVING), "a check that raises means not ready"
        answer["ready"] = True
        assert await turns(server.port, SERVING), "and the checks go on"
    finally:
        await server.stop(0)
    asked = answer["asked"]
    await asyncio.sleep(0.15)
    assert answer["asked"] == asked, "no check after the stop"
    assert server.health._server_status[""] == NOT_SERVING


async def test_a_service_ready_at_once_is_serving_from_its_first_answer() -> None:
    server = grpc_bootstrap.create_server(lambda _: [], port=0)

    async def ready() -> bool:
        return True

    await server.start(ready=ready)
    try:
        assert server.health._server_status[""] == SERVING
    finally:
        await server.stop(0)
