"""The edge's long-lived gRPC channels: the router for requests, billing and catalog for their
admin routes, and every service for the health checks /readyz reports."""

from __future__ import annotations

import asyncio

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from nextmodel.billing.v1 import admin_pb2_grpc
from nextmodel.catalog.v1 import catalog_pb2_grpc
from nextmodel.router.v1 import router_pb2_grpc
from nextmodel_common import grpc_bootstrap
from nextmodel_edge.config import EdgeSettings


class Upstreams:
    def __init__(self, settings: EdgeSettings) -> None:
        self.addresses = {
            "router": settings.router_addr,
            "cache": settings.cache_addr,
            "billing": settings.billing_addr,
            "catalog": settings.catalog_addr,
        }
        # Routers are stateless: balance over every replica and ride out one shutting down.
        configs = {"router": grpc_bootstrap.replicas_config("nextmodel.router.v1.RouterService")}
        self.channels = {name: grpc_bootstrap.channel(addr, configs.get(name)) for name, addr in self.addresses.items()}
        self.router = router_pb2_grpc.RouterServiceStub(self.channels["router"])
        # Accounts, spend and receipts are billing's; it checks the caller's key itself.
        self.admin = admin_pb2_grpc.BillingAdminServiceStub(self.channels["billing"])
        self.usage = admin_pb2_grpc.UsageServiceStub(self.channels["billing"])
        self.catalog_admin = catalog_pb2_grpc.CatalogAdminServiceStub(self.channels["catalog"])
        self._health = {name: health_pb2_grpc.HealthStub(ch) for name, ch in self.channels.items()}

    async def health(self, timeout: float) -> dict[str, str]:
        """Each service's answer to the standard gRPC health check."""

        async def check(name: str) -> tuple[str, str]:
            try:
                answer = await self._health[name].Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
                return name, health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)
            except grpc.aio.AioRpcError as failure:
                return name, failure.code().name
            except Exception:  # a broken check is an answer too (it names the service), not a 500
                return name, "UNKNOWN_ERROR"

        return dict(await asyncio.gather(*(check(name) for name in self._health)))

    async def close(self) -> None:
        for channel in self.channels.values():
            await channel.close()
