"""The shared server interceptors: errors raised become statuses, principals reach handlers,
in-flight calls are counted, for unary and streaming calls alike."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from nextmodel.common.v1 import common_pb2
from nextmodel_common import interceptors
from nextmodel_common.errors import ERROR_METADATA_KEY, GatewayError

SERVICE = "test.v1.Echo"


async def serve(*installed: grpc.aio.ServerInterceptor, gate: asyncio.Event | None = None):
    async def unary(request: bytes, context) -> bytes:
        if request == b"refuse":
            raise GatewayError(429, "Slow down.", code="rate_limited", retry_after_seconds=3)
        if request == b"storage":
            raise ConnectionRefusedError("db down")
        if gate is not None:
            await gate.wait()
        principal = interceptors.current_principal.get(None)
        return (principal or "anonymous").encode()

    async def stream(request: bytes, context):
        yield b"first"
        if request == b"refuse":
            raise GatewayError(400, "Bad.", code="invalid_value", param="x")
        yield (interceptors.current_principal.get(None) or "anonymous").encode()

    handler = grpc.method_handlers_generic_handler(SERVICE, {
        "Unary": grpc.unary_unary_rpc_method_handler(unary),
        "Stream": grpc.unary_stream_rpc_method_handler(stream),
        "Public": grpc.unary_unary_rpc_method_handler(unary),
    })
    server = grpc.aio.server(interceptors=list(installed))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, grpc.aio.insecure_channel(f"127.0.0.1:{port}")


async def who(authorization: str | None) -> str:
    if authorization != "Bearer good":
        raise GatewayError(401, "Invalid API key.", code="invalid_api_key")
    return "project-a"


def error_of(failure: grpc.aio.AioRpcError) -> common_pb2.Error:
    return common_pb2.Error.FromString(dict(failure.trailing_metadata())[ERROR_METADATA_KEY])


async def test_a_raised_gateway_error_is_its_status_with_the_openai_error() -> None:
    server, channel = await serve(interceptors.Errors(unavailable=(ConnectionError,)))
    try:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await channel.unary_unary(f"/{SERVICE}/Unary")(b"refuse")
        assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert (error_of(refused.value).http_status, error_of(refused.value).retry_after_seconds) == (429, 3)
        with pytest.raises(grpc.aio.AioRpcError) as down:
            await channel.unary_unary(f"/{SERVICE}/Unary")(b"storage")
        assert down.value.code() == grpc.StatusCode.UNAVAILABLE
        assert error_of(down.value).code == "storage_unavailable"
        call = channel.unary_stream(f"/{SERVICE}/Stream")(b"refuse")
        assert await call.read() == b"first"
        with pytest.raises(grpc.aio.AioRpcError) as mid_stream:
            await call.read()
        assert error_of(mid_stream.value).param == "x"
    finally:
        await channel.close()
        await server.stop(0)


async def test_the_principal_reaches_the_handler_and_a_bad_key_never_does() -> None:
    server, channel = await serve(interceptors.Errors(),
                                  interceptors.Authenticate(who, services=[SERVICE], public=[f"/{SERVICE}/Public"]))
    try:
        good = (("authorization", "Bearer good"),)
        assert await channel.unary_unary(f"/{SERVICE}/Unary")(b"", metadata=good) == b"project-a"
        assert [item async for item in channel.unary_stream(f"/{SERVICE}/Stream")(b"", metadata=good)] == [
            b"first", b"project-a"]
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await channel.unary_unary(f"/{SERVICE}/Unary")(b"", metadata=(("authorization", "Bearer bad"),))
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert await channel.unary_unary(f"/{SERVICE}/Public")(b"") == b"anonymous"
    finally:
        await channel.close()
        await server.stop(0)


async def test_in_flight_counts_the_calls_being_served() -> None:
    gate = asyncio.Event()
    counter = interceptors.InFlight()
    server, channel = await serve(counter, gate=gate)
    try:
        calls = [asyncio.ensure_future(channel.unary_unary(f"/{SERVICE}/Unary")(b"")) for _ in range(3)]
        for _ in range(200):
            if counter.count == 3:
                break
            await asyncio.sleep(0.005)
        assert counter.count == 3
        gate.set()
        await asyncio.gather(*calls)
        assert counter.count == 0
    finally:
        await channel.close()
        await server.stop(0)
