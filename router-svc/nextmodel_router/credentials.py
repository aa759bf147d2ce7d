"""Where a provider's API key and base URL come from for one call.

Adapters never read credentials themselves: the flow resolves them through this interface.
A project that stored its own key for a provider (bring your own key) uses it; everyone
else uses the platform's key from <PROVIDER>_API_KEY. Receipts say which one was used.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Protocol

from nextmodel.billing.v1 import billing_pb2
from nextmodel_common.errors import GatewayError
from nextmodel_router.catalog_copy import ProviderInfo
from nextmodel_router.clients import BillingClient
from nextmodel_router.config import RouterSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Credential:
    api_key: str | None
    base_url: str
    source: str  # "platform" | "project"


class Credentials(Protocol):
    async def resolve(self, provider: ProviderInfo, principal: billing_pb2.Principal) -> Credential: ...

    def configured(self, provider: ProviderInfo, principal: billing_pb2.Principal) -> bool:
        """Whether a call to `provider` for this caller has a key at all (no I/O: planning asks it)."""
        ...


class PlatformCredentials:
    """The platform's own keys, from <PROVIDER>_API_KEY / <PROVIDER>_BASE_URL."""

    def __init__(self, settings: RouterSettings) -> None:
        self.settings = settings

    def base_url(self, provider: ProviderInfo) -> str:
        return (self.settings.provider_base_url(provider.env_prefix) or provider.default_base_url).rstrip("/")

    async def resolve(self, provider: ProviderInfo, principal: billing_pb2.Principal) -> Credential:
        return Credential(self.settings.provider_api_key(provider.env_prefix), self.base_url(provider), "platform")

    def configured(self, provider: ProviderInfo, principal: billing_pb2.Principal) -> bool:
        return bool(self.settings.provider_api_key(provider.env_prefix))


class ProjectCredentials:
    """A project's own provider key when it stored one, else the platform's.

    Decrypted keys are kept in memory for a short TTL so the hot path rarely asks billing;
    a replaced key takes effect within that TTL.
    """

    def __init__(self, platform: PlatformCredentials, billing: BillingClient, ttl_seconds: float = 30.0) -> None:
        self.platform = platform
        self.billing = billing
        self.ttl_seconds = ttl_seconds
        self._cache: dict[tuple[str, str], tuple[str, float]] = {}

    def configured(self, provider: ProviderInfo, principal: billing_pb2.Principal) -> bool:
        return provider.id in principal.own_key_providers or self.platform.configured(provider, principal)

    async def resolve(self, provider: ProviderInfo, principal: billing_pb2.Principal) -> Credential:
        if provider.id not in principal.own_key_providers:
            return await self.platform.resolve(provider, principal)
        slot = (principal.project_id, provider.id)
        cached = self._cache.get(slot)
        if cached and cached[1] > time.monotonic():
            return Credential(cached[0], self.platform.base_url(provider), "project")
        try:
            answer = await self.billing.provider_key(principal.project_id, provider.id)
        except GatewayError as failure:
            if cached:  # billing is down: keep using the key we had
                return Credential(cached[0], self.platform.base_url(provider), "project")
            raise GatewayError(503, f"The project's own {provider.id} key cannot be read right now. Retry shortly.",
                               code="provider_key_unavailable", retry_after_seconds=1) from failure
        if not answer.present:
            return await self.platform.resolve(provider, principal)
        self._cache[slot] = (answer.api_key, time.monotonic() + self.ttl_seconds)
        return Credential(answer.api_key, self.platform.base_url(provider), "project")
