"""Budgets, reservations and settlement on SQLite and PostgreSQL, including concurrency."""

from __future__ import annotations

import asyncio
import time

import pytest

from nextmodel_billing.domain import PriceApplied, Usage
from nextmodel_billing.service import BillingService
from nextmodel_billing.store import SqlBillingStore
from nextmodel_common.errors import GatewayError

pytestmark = pytest.mark.integration

CENT = 10_000_000  # nano-USD
KEY_ID = ""


@pytest.fixture
async def billing(database_url):
    service = BillingService(SqlBillingStore(database_url), b"secret", secret_key=b"0123456789abcdef-key",
                             admin_key="admin")
    await service.store.open()
    await service.bootstrap_dev("nm-budget-test-key-000000000000")
    global KEY_ID
    KEY_ID = (await service.authenticate("nm-budget-test-key-000000000000")).key_id
    yield service
    await service.store.close()


def usage(request_id: str, reservation_id: str = "", prompt: int = 1000, completion: int = 0) -> Usage:
    # $10 per 1M input tokens: 1,000 prompt tokens cost exactly one cent.
    return Usage(
        request_id=request_id, receipt_id=f"rcpt_{request_id}", key_id=KEY_ID, project_id="proj_default",
        team_id="team_default", requested_model="m", served_model="m", provider="p", served_mode="fresh",
        usage_source="upstream", prompt_tokens=prompt, completion_tokens=completion, cached_prompt_tokens=0,
        price=PriceApplied(version="v", input_per_mtok_usd="10", cached_input_per_mtok_usd="",
                           output_per_mtok_usd="10"),
        discount_bps=0, latency_ms=1, status="ok", created_unix_ms=int(time.time() * 1000),
        reservation_id=reservation_id)


async def reserve(billing, request_id: str, amount: int):
    return await billing.reserve(request_id=request_id, key_id=KEY_ID, project_id="proj_default",
                                 team_id="team_default", amount_nano_usd=amount)


async def test_no_budget_means_no_reservation(billing) -> None:
    assert await reserve(billing, "r0", CENT) is None


async def test_reserve_settle_release_keep_the_counters_exact(billing) -> None:
    budget = await billing.set_budget("project", "proj_default", "daily", 10 * CENT, hard=True)
    held = await reserve(billing, "r1", 3 * CENT)
    assert held.remaining_nano_usd == 7 * CENT
    [state] = await billing.store.list_budgets(now_ms=int(time.time() * 1000))
    assert (state.spent_nano_usd, state.reserved_nano_usd) == (0, 3 * CENT)

    await billing.settle(usage("r1", held.reservation_id))  # real cost: one cent
    [state] = await billing.store.list_budgets(now_ms=int(time.time() * 1000))
    assert (state.spent_nano_usd, state.reserved_nano_usd) == (CENT, 0)

    other = await reserve(billing, "r2", 2 * CENT)
    assert await billing.release(other.reservation_id, "r2")
    assert not await billing.release(other.reservation_id, "r2"), "a reservation is released once"
    await billing.settle(usage("r1", held.reservation_id))  # redelivered: counted once
    [state] = await billing.store.list_budgets(now_ms=int(time.time() * 1000))
    assert (state.id, state.spent_nano_usd, state.reserved_nano_usd) == (budget.id, CENT, 0)


async def test_a_hard_budget_refuses_with_budget_exceeded_and_retry_after(billing) -> None:
    await billing.set_budget("key", KEY_ID, "daily", 5 * CENT, hard=True)
    await reserve(billing, "a", 4 * CENT)
    with pytest.raises(GatewayError) as refused:
        await reserve(billing, "b", 2 * CENT)
    assert refused.value.http_status == 429 and refused.value.code == "budget_exceeded"
    assert 0 < refused.value.retry_after_seconds <= 86_400


async def test_a_soft_budget_only_warns(billing) -> None:
    await billing.set_budget("team", "team_default", "monthly", CENT, hard=False)
    held = await reserve(billing, "s", 3 * CENT)
    assert held.soft_exceeded and held.remaining_nano_usd == -2 * CENT


async def test_concurrent_reservations_never_exceed_a_hard_budget(billing) -> None:
    await billing.set_budget("project", "proj_default", "total", 10 * CENT, hard=True)
    results = await asyncio.gather(*(reserve(billing, f"c{i}", CENT) for i in range(50)), return_exceptions=True)
    held = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, GatewayError)]
    assert len(held) == 10 and len(refused) == 40
    [state] = await billing.store.list_budgets(now_ms=int(time.time() * 1000))
    assert state.reserved_nano_usd == 10 * CENT


async def test_expired_reservations_are_released(billing) -> None:
    await billing.set_budget("project", "proj_default", "daily", 10 * CENT, hard=True)
    billing.reservation_ttl_ms = -1  # already expired when made
    await reserve(billing, "dangling", 4 * CENT)
    assert await billing.expire_reservations() == 1
    [state] = await billing.store.list_budgets(now_ms=int(time.time() * 1000))
    assert state.reserved_nano_usd == 0


async def test_usage_groups_and_export_sum_exactly(billing) -> None:
    for index in range(30):
        await billing.settle(Usage(**{**usage(f"u{index}", prompt=1000 + index).__dict__,
                                      "tags": {"env": "prod" if index % 3 else "dev"}}))
    from nextmodel_billing.service import Caller
    from nextmodel_billing.store.base import UsageFilter

    admin = Caller(admin=True)
    groups, total = await billing.usage(admin, "tag:env", UsageFilter())
    assert {g.group: g.requests for g in groups} == {"dev": 10, "prod": 20}
    assert sum(g.charged_cost_nano_usd for g in groups) == total.charged_cost_nano_usd
    exported = b"".join([chunk async for chunk in await billing.export(admin, UsageFilter(), "jsonl", 7)])
    import orjson

    rows = [orjson.loads(line) for line in exported.splitlines()]
    assert len(rows) == 30 and sum(r["charged_cost_nano_usd"] for r in rows) == total.charged_cost_nano_usd
    prod, _ = await billing.usage(admin, "", UsageFilter(tags={"env": "prod"}))
    assert prod[0].requests == 20


async def test_provider_keys_are_encrypted_at_rest(billing, database_url) -> None:
    await billing.set_provider_key("proj_default", "openai", "sk-project-own-key-123")
    assert await billing.provider_key("proj_default", "openai") == "sk-project-own-key-123"
    sealed = await billing.store.get_provider_key("proj_default", "openai")
    assert "sk-project" not in sealed
    principal = await billing.authenticate("nm-budget-test-key-000000000000")
    assert principal.own_key_providers == ("openai",)
