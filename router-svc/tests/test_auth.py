"""Key authentication's local cache: trusted for billing's TTL, stale answers only while billing
cannot be reached, and an invalid key forgotten at once."""

from __future__ import annotations

import pytest

from nextmodel.billing.v1 import billing_pb2
from nextmodel_common.errors import GatewayError
from nextmodel_router.auth import KeyAuthenticator

DOWN = GatewayError(503, "The billing service is unavailable. Retry the request shortly.",
                    code="service_unavailable", retry_after_seconds=1)


class Billing:
    """BillingClient.authenticate: a principal, None for an invalid key, or a GatewayError."""

    def __init__(self) -> None:
        self.keys: dict[str, billing_pb2.Principal] = {}
        self.down = False
        self.asked = 0

    async def authenticate(self, api_key: str) -> billing_pb2.Principal | None:
        self.asked += 1
        if self.down:
            raise DOWN
        return self.keys.get(api_key)


def setup(ttl: int = 5, stale_seconds: float = 300.0) -> tuple[KeyAuthenticator, Billing]:
    billing = Billing()
    billing.keys["sk-good"] = billing_pb2.Principal(key_id="k1", project_id="p1", cache_ttl_seconds=ttl)
    return KeyAuthenticator(billing, stale_seconds=stale_seconds), billing


async def test_a_key_is_asked_once_within_its_ttl() -> None:
    auth, billing = setup()
    for _ in range(3):
        assert (await auth.authenticate("Bearer sk-good")).key_id == "k1"
    assert billing.asked == 1


async def test_a_key_is_asked_again_once_its_ttl_is_over() -> None:
    auth, billing = setup(ttl=0)
    await auth.authenticate("Bearer sk-good")
    await auth.authenticate("Bearer sk-good")
    assert billing.asked == 2


async def test_a_missing_key_is_refused_without_asking_billing() -> None:
    auth, billing = setup()
    with pytest.raises(GatewayError) as refused:
        await auth.authenticate(None)
    assert refused.value.http_status == 401 and refused.value.code == "missing_api_key" and billing.asked == 0


async def test_an_invalid_key_is_401_and_a_revoked_one_is_forgotten() -> None:
    auth, billing = setup(ttl=0)
    await auth.authenticate("Bearer sk-good")
    del billing.keys["sk-good"]  # revoked
    with pytest.raises(GatewayError) as refused:
        await auth.authenticate("Bearer sk-good")
    assert refused.value.http_status == 401 and refused.value.code == "invalid_api_key"
    billing.down = True  # a forgotten key is not served stale either
    with pytest.raises(GatewayError) as refused:
        await auth.authenticate("Bearer sk-good")
    assert refused.value.http_status == 503


async def test_a_known_key_keeps_working_while_billing_is_down() -> None:
    auth, billing = setup(ttl=0)
    await auth.authenticate("Bearer sk-good")
    billing.down = True
    assert (await auth.authenticate("Bearer sk-good")).key_id == "k1"


async def test_a_stale_key_stops_working_past_the_stale_window() -> None:
    auth, billing = setup(ttl=0, stale_seconds=0)
    await auth.authenticate("Bearer sk-good")
    billing.down = True
    with pytest.raises(GatewayError) as refused:
        await auth.authenticate("Bearer sk-good")
    assert refused.value is DOWN


async def test_an_unknown_key_is_503_while_billing_is_down() -> None:
    auth, billing = setup()
    billing.down = True
    with pytest.raises(GatewayError) as refused:
        await auth.authenticate("Bearer sk-never-seen")
    assert refused.value.http_status == 503
