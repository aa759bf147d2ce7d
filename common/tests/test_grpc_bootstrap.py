"""A service that is not ready yet says NOT_SERVING until it is, and never SERVING after a stop."""

import asyncio

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from nextmodel_common import grpc_bootstrap


async def status(port: int) -> int:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        answer = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2)
        return answer.status


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
