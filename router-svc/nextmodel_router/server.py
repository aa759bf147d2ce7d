"""router-svc entry point: `python -m nextmodel_router.server`."""

from __future__ import annotations

import asyncio
import logging

from nextmodel.billing.v1 import admin_pb2_grpc
from nextmodel.router.v1 import router_pb2, router_pb2_grpc
from nextmodel_common import grpc_bootstrap, interceptors, telemetry
from nextmodel_router.adapters import AnthropicAdapter, OpenAICompatAdapter
from nextmodel_router.adapters.base import new_http_session
from nextmodel_router.auth import KeyAuthenticator
from nextmodel_router.catalog_copy import CatalogCopy
from nextmodel_router.chat import BackgroundTasks, ChatFlow
from nextmodel_router.clients import BillingClient, CacheClient, CatalogClient, LatencyReporter
from nextmodel_router.config import RouterSettings, get_settings
from nextmodel_router.credentials import PlatformCredentials, ProjectCredentials
from nextmodel_router.outbox import SettlementOutbox
from nextmodel_router.ratelimit import MemoryCounters, RateLimiter, RedisCounters
from nextmodel_router.readiness import RouterReadiness
from nextmodel_router.servicer import INTERNAL_ERROR, RouterServicer, refused

log = logging.getLogger("nextmodel.router")


class Router:
    """Everything the router holds for its lifetime: channels, the HTTP pool, the catalog copy."""

    def __init__(self, settings: RouterSettings) -> None:
        self.settings = settings
        self.channels = [grpc_bootstrap.channel(addr) for addr in
                         (settings.catalog_addr, settings.cache_addr, settings.billing_addr)]
        catalog_channel, cache_channel, billing_channel = self.channels
        self.http = new_http_session(connect_timeout=settings.upstream_connect_timeout,
                                     first_byte_timeout=settings.upstream_first_byte_timeout,
                                     max_connections=settings.upstream_max_connections)
        self.catalog = CatalogCopy(CatalogClient(catalog_channel, settings.internal_timeout),
                                   settings.catalog_refresh_seconds, snapshot_path=settings.catalog_snapshot_path)
        self.billing = BillingClient(billing_channel, settings.internal_timeout,
                                     SettlementOutbox(settings.router_outbox_path),
                                     linger_seconds=settings.settle_linger_ms / 1000)
        self.latency = LatencyReporter(catalog_channel, settings.internal_timeout,
                                       every_seconds=settings.latency_report_seconds)
        self.counters = RedisCounters(settings.redis_url) if settings.redis_url else MemoryCounters()
        self.cache = CacheClient(cache_channel, settings.internal_timeout,
                                 store_linger_seconds=settings.cache_store_linger_ms / 1000)
        self.tasks = BackgroundTasks()  # what requests leave running; waited for at shutdown
        self.credentials = ProjectCredentials(PlatformCredentials(settings), self.billing)
        self.flow = ChatFlow(
            catalog=self.catalog,
            cache=self.cache,
            billing=self.billing,
            credentials=self.credentials,
            rate_limiter=RateLimiter(self.counters),
            coalesce_timeout_ms=settings.cache_coalesce_timeout_ms,
            latency=self.latency,
            tasks=self.tasks,
            adapters={
                "openai": OpenAICompatAdapter(self.http, settings.upstream_total_timeout),
                "anthropic": AnthropicAdapter(self.http, settings.upstream_total_timeout),
            },
        )
        self.usage = admin_pb2_grpc.UsageServiceStub(billing_channel)
        self.auth = KeyAuthenticator(self.billing, settings.auth_stale_seconds)
        self.in_flight = interceptors.InFlight()  # the calls being served, for the drain

    def start(self) -> None:
        self.catalog.start()
        self.billing.start()

    async def close(self) -> None:
        # First the work the last requests left running (the settlement of a stream the drain
        # cancelled, releases, lease abandons): it needs the outbox and the channels closed below.
        await self.finish_requests(self.settings.internal_timeout + 1.0)
        await self.catalog.stop()
        await self.billing.stop()
        await self.latency.stop()
        await self.cache.close()
        await self.http.close()
        if isinstance(self.counters, RedisCounters):
            await self.counters.close()
        for channel in self.channels:
            await channel.close()

    async def finish_requests(self, bound: float) -> None:
        """Wait, at most `bound` seconds, until no chat call is unwinding and no background task runs.

        When the drain's grace runs out, gRPC cancels the calls still open. A cancelled stream
        settles what it produced (status client_cancelled, usage estimated) from a background
        task it schedules while unwinding, and a settlement billing does not take goes to the
        outbox: waiting here, before the outbox closes, is what keeps that usage from being lost.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + bound
        quiet = 0
        while quiet < 5:  # a few idle turns: unwinding generators are finalised a turn or two late
            await asyncio.sleep(0.01)
            busy = self.in_flight.count
            pending = self.tasks.pending()
            if not busy and not pending:
                quiet += 1
                continue
            quiet = 0
            left = deadline - loop.time()
            if left <= 0:
                log.warning("requests still finishing at shutdown; abandoned",
                            extra={"fields": {"calls": busy, "tasks": len(pending)}})
                for task in pending:
                    task.cancel()
                return
            if pending and not busy:
                await asyncio.wait(pending, timeout=left)


ROUTER_SERVICE = router_pb2.DESCRIPTOR.services_by_name["RouterService"].full_name


def create(settings: RouterSettings, port: int | None = None) -> tuple[Router, grpc_bootstrap.ServiceServer]:
    router = Router(settings)

    def register(server):
        servicer = RouterServicer(router.auth, router.flow, router.catalog, router.cache, router.billing,
                                  router.usage, settings.internal_timeout, router.credentials)
        router_pb2_grpc.add_RouterServiceServicer_to_server(servicer, server)
        return [ROUTER_SERVICE]

    # Outermost first: count the call (for the drain), answer errors, authenticate the caller.
    server = grpc_bootstrap.create_server(register, host=settings.bind_host,
                                          port=settings.router_port if port is None else port,
                                          interceptors=[router.in_flight,
                                                        interceptors.Errors(internal_error=INTERNAL_ERROR,
                                                                            on_refused=refused),
                                                        interceptors.Authenticate(router.auth.authenticate,
                                                                                  services=[ROUTER_SERVICE])])
    return router, server


async def main() -> None:
    settings = get_settings()
    telemetry.setup_logging("router", settings.log_level)
    telemetry.setup_telemetry("router")
    router, server = create(settings)
    router.start()
    # Health is SERVING only while the router has a catalog to route on (saved or live) and an
    # outbox that takes settlements (readiness.py): a new pod started during a catalog outage
    # takes no traffic it could only answer with 503.
    await grpc_bootstrap.serve_until_signalled(server, settings.shutdown_grace_seconds, on_stop=router.close,
                                               ready=RouterReadiness(router.catalog.loaded, router.billing.outbox))


if __name__ == "__main__":
    grpc_bootstrap.run(main)
