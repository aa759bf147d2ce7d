from __future__ import annotations

from functools import lru_cache

from nextmodel_common.settings import BaseServiceSettings


class CacheSettings(BaseServiceSettings):
    cache_port: int = 50052


@lru_cache
def get_settings() -> CacheSettings:
    return CacheSettings()
