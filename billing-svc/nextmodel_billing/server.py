"""billing-svc entry point: `python -m nextmodel_billing.server`."""

from __future__ import annotations

import asyncio
import logging

from nextmodel.billing.v1 import admin_pb2, admin_pb2_grpc, billing_pb2, billing_pb2_grpc
from nextmodel_billing.config import BillingSettings, get_settings
from nextmodel_billing.service import BillingService
from nextmodel_billing.servicer import BillingAdminServicer, BillingServicer, UsageServicer
from nextmodel_billing.store import SqlBillingStore
from nextmodel_common import grpc_bootstrap, interceptors, telemetry
from nextmodel_common.access import bearer
from nextmodel_common.db import STORAGE_ERRORS
from nextmodel_common.tasks import cancel_and_wait

log = logging.getLogger("nextmodel.billing")
ADMIN_SERVICE = admin_pb2.DESCRIPTOR.services_by_name["BillingAdminService"].full_name
USAGE_SERVICE = admin_pb2.DESCRIPTOR.services_by_name["UsageService"].full_name


def build_service(settings: BillingSettings) -> BillingService:
    return BillingService(
        SqlBillingStore(settings.database_url),
        settings.receipt_secret.get_secret_value().encode(),
        secret_key=settings.secret_key.get_secret_value().encode(),
        admin_key=settings.admin_key.get_secret_value() if settings.admin_key else None,
        reservation_ttl_seconds=settings.reservation_ttl_seconds,
    )


async def create(settings: BillingSettings, port: int | None = None):
    service = build_service(settings)
    await service.store.open()
    if settings.bootstrap:
        dev_key = await service.bootstrap_dev(settings.dev_key.get_secret_value() if settings.dev_key else None)
        if dev_key and not settings.dev_key:
            # Generated now and shown nowhere else: the operator needs it for a first request.
            # (`nextmodel run` passes its own key and prints it on the console, not in a log.)
            print(f"NEXTMODEL development API key: {dev_key}", flush=True)
        log.info("development project ready", extra={"fields": {
            "project_id": "proj_default", "key_prefix": dev_key[:10] if dev_key else None}})

    def register(server):
        billing_pb2_grpc.add_BillingServiceServicer_to_server(
            BillingServicer(service, settings.auth_cache_ttl_seconds), server)
        admin_pb2_grpc.add_BillingAdminServiceServicer_to_server(BillingAdminServicer(service), server)
        admin_pb2_grpc.add_UsageServiceServicer_to_server(UsageServicer(service, settings.export_batch_rows), server)
        return [billing_pb2.DESCRIPTOR.services_by_name["BillingService"].full_name, ADMIN_SERVICE, USAGE_SERVICE]

    async def admin_only(authorization: str | None) -> bool:
        service.require_admin(bearer(authorization))
        return True

    async def caller(authorization: str | None):
        return await service.caller(bearer(authorization))

    server = grpc_bootstrap.create_server(
        register, host=settings.bind_host, port=settings.billing_port if port is None else port,
        interceptors=[interceptors.Errors(unavailable=STORAGE_ERRORS),
                      interceptors.Authenticate(admin_only, services=[ADMIN_SERVICE]),
                      interceptors.Authenticate(caller, services=[USAGE_SERVICE])],
    )
    return service, server


async def sweep_reservations(service: BillingService, every_seconds: float = 30.0) -> None:
    """Release reservations whose request never settled (a router that died mid-request)."""
    while True:
        await asyncio.sleep(every_seconds)
        try:
            expired = await service.expire_reservations()
            if expired:
                log.warning("reservations expired unsettled; counted as spent at their worst case until settled",
                            extra={"fields": {"count": expired}})
        except Exception:
            log.exception("reservation sweep failed")


async def main() -> None:
    settings = get_settings()
    telemetry.setup_logging("billing", settings.log_level)
    telemetry.setup_telemetry("billing")
    service, server = await create(settings)
    sweeper = asyncio.create_task(sweep_reservations(service))

    async def stop() -> None:
        await cancel_and_wait(sweeper)
        await service.store.close()

    await grpc_bootstrap.serve_until_signalled(server, settings.shutdown_grace_seconds, on_stop=stop)


if __name__ == "__main__":
    grpc_bootstrap.run(main)
