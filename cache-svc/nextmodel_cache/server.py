"""cache-svc entry point: `python -m nextmodel_cache.server`."""

from __future__ import annotations

from nextmodel.cache.v1 import cache_pb2, cache_pb2_grpc
from nextmodel_cache.config import CacheSettings, get_settings
from nextmodel_cache.servicer import CacheServicer
from nextmodel_common import grpc_bootstrap, telemetry


def create(settings: CacheSettings, port: int | None = None) -> grpc_bootstrap.ServiceServer:
    def register(server):
        cache_pb2_grpc.add_CacheServiceServicer_to_server(CacheServicer(), server)
        return [cache_pb2.DESCRIPTOR.services_by_name["CacheService"].full_name]

    return grpc_bootstrap.create_server(register, host=settings.bind_host,
                                        port=settings.cache_port if port is None else port)


async def main() -> None:
    settings = get_settings()
    telemetry.setup_logging("cache", settings.log_level)
    telemetry.setup_telemetry("cache")
    await grpc_bootstrap.serve_until_signalled(create(settings), settings.shutdown_grace_seconds)


if __name__ == "__main__":
    grpc_bootstrap.run(main)
