"""gRPC server factory, client channels, and the run loop every service uses."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from nextmodel_common import telemetry
from nextmodel_common.tasks import cancel_and_wait

log = logging.getLogger(__name__)

# Long-lived channels: keep HTTP/2 connections warm and notice dead peers.
CHANNEL_OPTIONS = (
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.max_send_message_length", 64 * 1024 * 1024),
    # A restarted peer is found again within a fraction of a second, not after seconds of backoff.
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 2000),
)
SERVER_OPTIONS = (
    # Clients reconnect every few minutes, so replicas an autoscaler adds get their share of
    # long-lived channels; in-flight calls (long streams included) finish within the grace.
    ("grpc.max_connection_age_ms", 5 * 60 * 1000),
    ("grpc.max_connection_age_grace_ms", 15 * 60 * 1000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.max_send_message_length", 64 * 1024 * 1024),
)


# The health name that only says the process is up and serving gRPC (SERVING from start to stop).
# Startup and liveness probes ask for it, readiness probes ask for "" (the whole server): a
# service that cannot take work for a while (NOT_SERVING) is kept out of rotation, not restarted.
LIVENESS = "liveness"

# How often a readiness check (`start(ready=<callable>)`) runs while the service is SERVING, and
# while it is not (it then turns SERVING within this long of being able to).
RECHECK_SECONDS = 1.0
RECHECK_NOT_SERVING_SECONDS = 0.1

ReadyCheck = Callable[[], Awaitable[bool]]


class ServiceServer:
    """A started-or-not grpc.aio server with its health servicer."""

    def __init__(self, server: grpc.aio.Server, port: int, health_servicer: health.aio.HealthServicer,
                 service_names: list[str]) -> None:
        self.server = server
        self.port = port
        self.health = health_servicer
        self.service_names = service_names
        self._readiness: asyncio.Task | None = None

    async def start(self, *, ready: asyncio.Event | ReadyCheck | None = None,
                    recheck_seconds: float = RECHECK_SECONDS) -> None:
        """Serve. Health says SERVING at once; given `ready`, only while the service can do its
        work (a readiness probe then keeps traffic away meanwhile):

        - an `asyncio.Event`: NOT_SERVING until it is set, SERVING from then on;
        - an async callable answering True or False: asked now, then every `recheck_seconds`
          (every 0.1 s while False), and health follows its answer both ways.

        The `liveness` name is SERVING from here until the stop, whatever `ready` says."""
        await self.server.start()
        await self.health.set(LIVENESS, health_pb2.HealthCheckResponse.SERVING)
        if ready is None or (isinstance(ready, asyncio.Event) and ready.is_set()):
            await self._set(health_pb2.HealthCheckResponse.SERVING)
            return
        if isinstance(ready, asyncio.Event):
            await self._set(health_pb2.HealthCheckResponse.NOT_SERVING)
            self._readiness = asyncio.create_task(self._serving_once(ready), name="health-ready")
            return
        serving = await _ask(ready)
        await self._set(_status(serving))
        self._readiness = asyncio.create_task(self._follow(ready, serving, recheck_seconds), name="health-follow")

    async def _serving_once(self, ready: asyncio.Event) -> None:
        await ready.wait()
        await self._set(health_pb2.HealthCheckResponse.SERVING)
        log.info("ready: health is SERVING now")

    async def _follow(self, ready: ReadyCheck, serving: bool, every: float) -> None:
        while True:
            await asyncio.sleep(every if serving else min(every, RECHECK_NOT_SERVING_SECONDS))
            now = await _ask(ready)
            if now == serving:
                continue
            serving = now
            await self._set(_status(now))
            if now:
                log.info("ready: health is SERVING now")
            else:
                log.warning("not ready: health is NOT_SERVING until the service can work again")

    async def _set(self, status) -> None:
        for name in ["", *self.service_names]:
            await self.health.set(name, status)

    async def stop(self, grace: float) -> None:
        """Stop taking new calls (health goes NOT_SERVING first), drain in-flight ones."""
        await cancel_and_wait(self._readiness)
        await self._set(health_pb2.HealthCheckResponse.NOT_SERVING)
        await self.server.stop(grace)


def _status(serving: bool):
    return health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING


async def _ask(ready: ReadyCheck) -> bool:
    try:
        return bool(await ready())
    except Exception:  # a check that breaks says "not ready"; the loop asking it goes on
        log.exception("readiness check failed")
        return False


def create_server(
    register: Callable[[grpc.aio.Server], Iterable[str]],
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    interceptors: Iterable[grpc.aio.ServerInterceptor] = (),
) -> ServiceServer:
    """Build a server; `register` adds the servicers and returns their full service names.

    Binding port 0 picks a free port, which tests use; the bound port is returned.
    """
    server = grpc.aio.server(
        interceptors=[*telemetry.grpc_server_interceptors(), *interceptors], options=SERVER_OPTIONS
    )
    service_names = list(register(server))
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        [*service_names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME],
        server,
    )
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise RuntimeError(f"could not bind {host}:{port}")
    return ServiceServer(server, bound, health_servicer, service_names)


def channel(address: str, service_config: dict | None = None) -> grpc.aio.Channel:
    """A long-lived client channel; create one per peer per process and reuse it.

    `address` may list several replicas (`ipv4:10.0.0.1:50051,10.0.0.2:50051`) or name a
    headless Service (`dns:///router:50051`); `service_config` sets balancing and retries.
    """
    options: tuple[tuple[str, int | str], ...] = CHANNEL_OPTIONS
    if service_config is not None:
        options = (*options, ("grpc.service_config", json.dumps(service_config)))
    return grpc.aio.insecure_channel(
        address, options=options, interceptors=telemetry.grpc_client_interceptors() or None
    )


def replicas_config(service: str) -> dict:
    """Spread calls over every replica an address names, and send a call again, once, when a
    replica that was shutting down cancelled it (gRPC only retries calls whose answer has not
    begun). UNAVAILABLE is not retried: the router also uses it for failures after real work."""
    return {
        "loadBalancingConfig": [{"round_robin": {}}],
        "methodConfig": [{
            "name": [{"service": service}],
            "retryPolicy": {"maxAttempts": 2, "initialBackoff": "0.01s", "maxBackoff": "0.1s",
                            "backoffMultiplier": 2, "retryableStatusCodes": ["CANCELLED"]},
        }],
    }


async def serve_until_signalled(
    service: ServiceServer,
    grace: float,
    *,
    on_stop: Callable[[], Awaitable[None]] | None = None,
    ready: asyncio.Event | ReadyCheck | None = None,
) -> None:
    """Start (health follows `ready` when given: see `ServiceServer.start`), then run until
    SIGTERM/SIGINT; then drain within `grace` seconds and clean up."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await service.start(ready=ready)
    log.info("serving", extra={"fields": {"port": service.port, "services": service.service_names}})
    await stop.wait()
    log.info("stopping", extra={"fields": {"grace_seconds": grace}})
    await service.stop(grace)
    if on_stop is not None:
        await on_stop()
    telemetry.shutdown_telemetry()


def run(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a service's async main on uvloop."""
    try:
        import uvloop

        uvloop.run(main())
    except ImportError:  # pragma: no cover - platforms without uvloop
        asyncio.run(main())
