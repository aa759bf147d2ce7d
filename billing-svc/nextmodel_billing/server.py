"""billing-svc entry point: `python -m nextmodel_billing.server`."""

from __future__ import annotations

import logging

from nextmodel.billing.v1 import billing_pb2, billing_pb2_grpc
from nextmodel_billing.config import BillingSettings, get_settings
from nextmodel_billing.service import BillingService
from nextmodel_billing.servicer import BillingServicer
from nextmodel_billing.store import SqlBillingStore
from nextmodel_common import grpc_bootstrap, telemetry

log = logging.getLogger("nextmodel.billing")


async def create(settings: BillingSettings, port: int | None = None):
    service = BillingService(SqlBillingStore(settings.database_url), settings.receipt_secret.get_secret_value().encode())
    await service.store.open()
    if settings.bootstrap:
        dev_key = await service.bootstrap_dev(settings.dev_key.get_secret_value() if settings.dev_key else None)
        if dev_key:
            # Local development only: the operator needs the key to make a first request.
            print(f"NEXTMODEL development API key: {dev_key}", flush=True)
        else:
            log.info("development key exists already; set NEXTMODEL_DEV_KEY to choose one")

    def register(server):
        billing_pb2_grpc.add_BillingServiceServicer_to_server(
            BillingServicer(service, settings.auth_cache_ttl_seconds), server
        )
        return [billing_pb2.DESCRIPTOR.services_by_name["BillingService"].full_name]

    server = grpc_bootstrap.create_server(
        register, host=settings.bind_host, port=settings.billing_port if port is None else port
    )
    return service, server


async def main() -> None:
    settings = get_settings()
    telemetry.setup_logging("billing", settings.log_level)
    telemetry.setup_telemetry("billing")
    service, server = await create(settings)
    await grpc_bootstrap.serve_until_signalled(server, settings.shutdown_grace_seconds, on_stop=service.store.close)


if __name__ == "__main__":
    grpc_bootstrap.run(main)
