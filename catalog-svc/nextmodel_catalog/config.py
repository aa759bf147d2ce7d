from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import SecretStr

from nextmodel_common.settings import BaseServiceSettings, embedded_database_url

DEFAULT_SEED = Path(__file__).with_name("seed.yaml")


class CatalogSettings(BaseServiceSettings):
    catalog_port: int = 50054
    # Shared with billing by default (tables are prefixed); SQLite file when unset.
    database_url: str = embedded_database_url("catalog")
    catalog_seed_path: Path = DEFAULT_SEED
    # Guards the catalog admin RPCs (prices, policies).
    admin_key: SecretStr | None = None
    # How often each replica rereads the store, so admin changes made on another replica show up.
    catalog_reload_seconds: float = 5.0


@lru_cache
def get_settings() -> CatalogSettings:
    return CatalogSettings()
