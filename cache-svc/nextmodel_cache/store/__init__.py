"""Cache storage: one interface, an in-process LRU (embedded) and Redis (production)."""

from nextmodel_cache.store.base import CacheStore, StoreUnavailable
from nextmodel_cache.store.memory import MemoryStore
from nextmodel_cache.store.redis import RedisStore

__all__ = ["CacheStore", "MemoryStore", "RedisStore", "StoreUnavailable"]
