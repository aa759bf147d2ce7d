"""cache-svc entry point: `python -m nextmodel_cache.server`."""

from __future__ import annotations

from nextmodel.cache.v1 import cache_pb2, cache_pb2_grpc
from nextmodel_cache.config import CacheSettings, get_settings
from nextmodel_cache.service import ExactCache
from nextmodel_cache.servicer import CacheServicer
from nextmodel_cache.store import MemoryStore, RedisStore
from nextmodel_common import grpc_bootstrap, telemetry


def build_cache(settings: CacheSettings) -> ExactCache:
    store = (RedisStore(settings.redis_url, settings.cache_key_prefix, settings.cache_compress_over_bytes)
             if settings.redis_url else MemoryStore(settings.cache_memory_bytes))
    return ExactCache(store, settings.cache_max_entry_bytes)


def create(settings: CacheSettings, port: int | None = None) -> tuple[ExactCache, grpc_bootstrap.ServiceServer]:
    cache = build_cache(settings)

    def register(server):
        cache_pb2_grpc.add_CacheServiceServicer_to_server(CacheServicer(cache), server)
        return [cache_pb2.DESCRIPTOR.services_by_name["CacheService"].full_name]

    return cache, grpc_bootstrap.create_server(register, host=settings.bind_host,
                                               port=settings.cache_port if port is None else port)


async def main() -> None:
    settings = get_settings()
    telemetry.setup_logging("cache", settings.log_level)
    telemetry.setup_telemetry("cache")
    cache, server = create(settings)
    await grpc_bootstrap.serve_until_signalled(server, settings.shutdown_grace_seconds, on_stop=cache.backend.close)


if __name__ == "__main__":
    grpc_bootstrap.run(main)
