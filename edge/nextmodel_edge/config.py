from __future__ import annotations

from functools import lru_cache

from nextmodel_common.settings import BaseServiceSettings


class EdgeSettings(BaseServiceSettings):
    edge_port: int = 8080
    # Deadline for one non-streaming chat completion through the router (seconds).
    chat_timeout: float = 620.0
    # Deadline for the other router calls and health checks (seconds).
    internal_timeout: float = 5.0


@lru_cache
def get_settings() -> EdgeSettings:
    return EdgeSettings()
