"""The settings base every service's `config.py` extends.

All of our settings are `NEXTMODEL_*` environment variables; telemetry uses the
standard `OTEL_*` ones, read by the OpenTelemetry SDK itself.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class BaseServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEXTMODEL_", extra="ignore")

    # Interface the service listens on. 0.0.0.0 in containers.
    bind_host: str = "127.0.0.1"
    log_level: str = "INFO"
    # Seconds a SIGTERM'd service keeps serving in-flight calls.
    shutdown_grace_seconds: float = 10.0

    # Where the other services are reached (host:port).
    router_addr: str = "127.0.0.1:50051"
    cache_addr: str = "127.0.0.1:50052"
    billing_addr: str = "127.0.0.1:50053"
    catalog_addr: str = "127.0.0.1:50054"


def embedded_database_url(name: str) -> str:
    """The SQLite file an embedded service uses when NEXTMODEL_DATABASE_URL is unset."""
    return f"sqlite+aiosqlite:///.data/{name}.db"


def sqlite_path(url: str) -> str | None:
    """The file of a SQLite URL ("sqlite+aiosqlite:///path"), or None for other databases and :memory:."""
    if not url.startswith("sqlite") or ":///" not in url:
        return None
    path = url.split(":///", 1)[1].split("?", 1)[0]
    return path if path and path != ":memory:" else None
