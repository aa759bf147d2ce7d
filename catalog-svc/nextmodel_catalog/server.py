"""catalog-svc entry point: `python -m nextmodel_catalog.server`."""

from __future__ import annotations

import asyncio
import logging

from nextmodel.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from nextmodel_catalog.config import CatalogSettings, get_settings
from nextmodel_catalog.latency import LatencyBook
from nextmodel_catalog.service import CatalogService
from nextmodel_catalog.servicer import CatalogAdminServicer, CatalogServicer
from nextmodel_catalog.store import SqlCatalogStore
from nextmodel_common import grpc_bootstrap, interceptors, telemetry
from nextmodel_common.access import bearer, is_admin_key
from nextmodel_common.db import STORAGE_ERRORS
from nextmodel_common.errors import GatewayError
from nextmodel_common.tasks import cancel_and_wait

log = logging.getLogger("nextmodel.catalog")


ADMIN_SERVICE = catalog_pb2.DESCRIPTOR.services_by_name["CatalogAdminService"].full_name


async def create(settings: CatalogSettings, port: int | None = None):
    """Build the started domain service and its (not yet started) gRPC server."""
    service = CatalogService(SqlCatalogStore(settings.database_url))
    await service.start(settings.catalog_seed_path)
    admin_key = settings.admin_key.get_secret_value() if settings.admin_key else None

    async def admin_only(authorization: str | None) -> bool:
        if not is_admin_key(bearer(authorization), admin_key):
            raise GatewayError(401, "This needs the admin key (NEXTMODEL_ADMIN_KEY) as the bearer token.",
                               code="admin_key_required")
        return True

    def register(server):
        catalog_pb2_grpc.add_CatalogServiceServicer_to_server(CatalogServicer(service, LatencyBook()), server)
        catalog_pb2_grpc.add_CatalogAdminServiceServicer_to_server(CatalogAdminServicer(service), server)
        return [catalog_pb2.DESCRIPTOR.services_by_name["CatalogService"].full_name,
                ADMIN_SERVICE]

    server = grpc_bootstrap.create_server(
        register, host=settings.bind_host, port=settings.catalog_port if port is None else port,
        interceptors=[interceptors.Errors(unavailable=STORAGE_ERRORS),
                      interceptors.Authenticate(admin_only, services=[ADMIN_SERVICE])],
    )
    return service, server


async def main() -> None:
    settings = get_settings()
    telemetry.setup_logging("catalog", settings.log_level)
    telemetry.setup_telemetry("catalog")
    service, server = await create(settings)
    reloader = asyncio.create_task(reload_periodically(service, settings.catalog_reload_seconds))

    async def stop() -> None:
        await cancel_and_wait(reloader)
        await service.store.close()

    await grpc_bootstrap.serve_until_signalled(server, settings.shutdown_grace_seconds, on_stop=stop)


async def reload_periodically(service: CatalogService, every_seconds: float) -> None:
    """Pick up prices and policies another replica's admin API changed."""
    while True:
        await asyncio.sleep(every_seconds)
        try:
            await service.reload()
        except Exception:
            log.exception("catalog reload failed; keeping the catalog in memory")


if __name__ == "__main__":
    grpc_bootstrap.run(main)
