"""Where a provider's API key and base URL come from for one call.

Adapters never read credentials themselves: the flow resolves them through this
interface, so a project's own provider keys (bring your own key) can plug in later
without touching any adapter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from nextmodel_router.catalog_copy import ProviderInfo
from nextmodel_router.config import RouterSettings


@dataclass(frozen=True)
class Credential:
    api_key: str | None
    base_url: str
    source: str  # "platform" | "project"


class Credentials(Protocol):
    async def resolve(self, provider: ProviderInfo, project_id: str) -> Credential: ...


class PlatformCredentials:
    """The platform's own keys, from <PROVIDER>_API_KEY / <PROVIDER>_BASE_URL."""

    def __init__(self, settings: RouterSettings) -> None:
        self.settings = settings

    async def resolve(self, provider: ProviderInfo, project_id: str) -> Credential:
        base_url = self.settings.provider_base_url(provider.env_prefix) or provider.default_base_url
        return Credential(
            api_key=self.settings.provider_api_key(provider.env_prefix),
            base_url=base_url.rstrip("/"),
            source="platform",
        )
