"""catalog-svc entry point: `python -m nextmodel_catalog.server`."""

from __future__ import annotations

import logging

from nextmodel.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from nextmodel_catalog.config import CatalogSettings, get_settings
from nextmodel_catalog.service import CatalogService
from nextmodel_catalog.servicer import CatalogServicer
from nextmodel_catalog.store import SqlCatalogStore
from nextmodel_common import grpc_bootstrap, telemetry

log = logging.getLogger("nextmodel.catalog")


async def create(settings: CatalogSettings, port: int | None = None):
    """Build the started domain service and its (not yet started) gRPC server."""
    service = CatalogService(SqlCatalogStore(settings.database_url))
    await service.start(settings.catalog_seed_path)

    def register(server):
        catalog_pb2_grpc.add_CatalogServiceServicer_to_server(CatalogServicer(service), server)
        return [catalog_pb2.DESCRIPTOR.services_by_name["CatalogService"].full_name]

    server = grpc_bootstrap.create_server(
        register, host=settings.bind_host, port=settings.catalog_port if port is None else port
    )
    return service, server


async def main() -> None:
    settings = get_settings()
    telemetry.setup_logging("catalog", settings.log_level)
    telemetry.setup_telemetry("catalog")
    service, server = await create(settings)
    await grpc_bootstrap.serve_until_signalled(
        server, settings.shutdown_grace_seconds, on_stop=service.store.close
    )


if __name__ == "__main__":
    grpc_bootstrap.run(main)
