"""The storage backends, on the embedded SQLite and on a real PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

import pytest

from nextmodel_billing import keys
from nextmodel_billing.domain import PriceApplied, Usage, build_receipt
from nextmodel_billing.service import AuthError, BillingService
from nextmodel_billing.store import SqlBillingStore
from nextmodel_catalog.config import DEFAULT_SEED
from nextmodel_catalog.domain import load_seed
from nextmodel_catalog.store import SqlCatalogStore

pytestmark = pytest.mark.integration


def usage(request_id: str, project_id: str = "proj_default") -> Usage:
    return Usage(
        request_id=request_id, receipt_id=f"rcpt_{request_id}", key_id="key_1", project_id=project_id,
        team_id="team_default", requested_model="gpt-4.1", served_model="gpt-4.1", provider="openai",
        served_mode="fresh", usage_source="upstream", prompt_tokens=100, completion_tokens=10,
        cached_prompt_tokens=0,
        price=PriceApplied(version="v1", input_per_mtok_usd="2", cached_input_per_mtok_usd="",
                           output_per_mtok_usd="8"),
        discount_bps=0, latency_ms=5, status="ok", created_unix_ms=1_700_000_000_000, tags={"env": "test"},
    )


async def test_billing_bootstrap_authenticates_only_by_hash(database_url) -> None:
    service = BillingService(SqlBillingStore(database_url), b"secret")
    await service.store.open()
    key = await service.bootstrap_dev("nm-chosen-development-key-0001")
    assert key == "nm-chosen-development-key-0001"
    principal = await service.authenticate(key)
    assert principal.project_id == "proj_default" and principal.team_id == "team_default"
    assert principal.key_prefix == keys.visible_prefix(key)
    with pytest.raises(AuthError):
        await service.authenticate("nm-chosen-development-key-0002")
    # A restart with the same key changes nothing; without one, no second key is generated.
    assert await service.bootstrap_dev(key) == key
    assert await service.bootstrap_dev(None) is None
    assert await service.store.count_keys("proj_default") == 1
    await service.store.close()


async def test_settle_is_idempotent_by_request_id_and_scoped_by_project(database_url) -> None:
    service = BillingService(SqlBillingStore(database_url), b"secret")
    await service.store.open()
    first = await service.settle(usage("req_1"))
    again = await service.settle(replace(usage("req_1"), receipt_id="rcpt_other", prompt_tokens=999))
    assert again == first, "a redelivered settlement must return the first receipt, not add one"
    await service.settle(usage("req_2", project_id="proj_other"))

    assert [r.id for r in await service.receipts("proj_default")] == ["rcpt_req_1"]
    assert await service.receipt("rcpt_req_1", "proj_default") == first
    assert await service.receipt("rcpt_req_1", "proj_other") is None
    assert (await service.receipt("rcpt_req_2", None)).project_id == "proj_other"
    assert first.tags == {"env": "test"}
    assert first == build_receipt(usage("req_1"), b"secret")
    await service.store.close()


async def test_catalog_keeps_every_price_version(database_url) -> None:
    store = SqlCatalogStore(database_url)
    await store.open()
    seed = load_seed(DEFAULT_SEED)
    await store.apply(seed, now_ms=1)
    loaded = await store.load()
    assert [m.id for m in loaded.models] == sorted(m.id for m in seed.models)

    target = seed.models[0]
    cheaper = replace(target, price=replace(target.price, input="0.01", effective_date="2026-12-01"))
    await store.apply(replace(seed, models=(cheaper, *seed.models[1:])), now_ms=2)
    reloaded = {m.id: m for m in (await store.load()).models}
    assert reloaded[target.id].price.input == "0.01"
    history = await store.price_history(target.id)
    assert [version for version, _ in history] == [target.price.version, cheaper.price.version]
    await store.close()
