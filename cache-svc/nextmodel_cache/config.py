from __future__ import annotations

from functools import lru_cache

from nextmodel_common.settings import BaseServiceSettings


class CacheSettings(BaseServiceSettings):
    cache_port: int = 50052
    # Redis when set (shared by every cache replica); an in-process LRU otherwise.
    redis_url: str = ""
    cache_key_prefix: str = "nm:cache:"
    # In-process store: the most memory its entries may take.
    cache_memory_bytes: int = 256 * 1024 * 1024
    # Entries larger than this are served but not stored.
    cache_max_entry_bytes: int = 2 * 1024 * 1024
    # Entries larger than this are compressed in Redis.
    cache_compress_over_bytes: int = 4096


@lru_cache
def get_settings() -> CacheSettings:
    return CacheSettings()
