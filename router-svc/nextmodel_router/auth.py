"""Key authentication through billing, with a short-lived local cache.

An authenticated key is trusted for the TTL billing gives (a few seconds), so a revoked
key stops working within seconds while the hot path rarely pays a billing round trip. A key
with an expiry is refused from its `expires_unix_ms` on, cached or not.

When billing cannot be reached, a key that authenticated within the last `stale_seconds`
keeps working (its usage waits in the outbox); keys never seen before are refused with
503, and budgeted keys are refused by the reservation step, which fails closed.
"""

from __future__ import annotations

import hashlib
import time

from nextmodel.billing.v1 import billing_pb2
from nextmodel_common.access import bearer
from nextmodel_common.errors import GatewayError
from nextmodel_router.clients import BillingClient

_MAX_ENTRIES = 100_000


class KeyAuthenticator:
    def __init__(self, billing: BillingClient, stale_seconds: float = 300.0) -> None:
        self.billing = billing
        self.stale_seconds = stale_seconds
        # sha256(key) -> (principal, expires at monotonic seconds). Raw keys are never kept.
        self._cache: dict[bytes, tuple[billing_pb2.Principal, float]] = {}

    async def authenticate(self, authorization: str | None) -> billing_pb2.Principal:
        api_key = bearer(authorization)
        if not api_key:
            raise GatewayError(
                401, "Missing API key. Send it as 'Authorization: Bearer <key>'.", code="missing_api_key"
            )
        fingerprint = hashlib.sha256(api_key.encode()).digest()
        cached = self._cache.get(fingerprint)
        if cached and _expired(cached[0]):
            self._cache.pop(fingerprint, None)
            raise _invalid_key()
        now = time.monotonic()
        if cached and cached[1] > now:
            return cached[0]
        try:
            principal = await self.billing.authenticate(api_key)
        except GatewayError:  # billing cannot say
            if cached and cached[1] + self.stale_seconds > now:
                return cached[0]
            raise
        if principal is None or _expired(principal):  # billing says the key is not valid
            self._cache.pop(fingerprint, None)
            raise _invalid_key()
        if len(self._cache) >= _MAX_ENTRIES:
            self._cache.clear()
        self._cache[fingerprint] = (principal, now + principal.cache_ttl_seconds)
        return principal


def _expired(principal: billing_pb2.Principal) -> bool:
    return bool(principal.expires_unix_ms) and principal.expires_unix_ms <= time.time() * 1000


def _invalid_key() -> GatewayError:
    return GatewayError(401, "Invalid API key. Check the key, or create a new one.", code="invalid_api_key")
