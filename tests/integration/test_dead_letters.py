"""A settlement billing can never store is a dead letter, never a block; budgets stay hard while
settlements are refused or late (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import time

import pytest

from nextmodel_billing import settlement
from nextmodel_billing.store.base import DeadLetter
from nextmodel_common.errors import GatewayError
from tests.integration import test_billing_budgets as budgets
from tests.integration.test_billing_budgets import CENT, reserve, usage

billing = budgets.billing  # the same fixture: a billing service on SQLite and on PostgreSQL

pytestmark = pytest.mark.integration


def poisoned(request_id: str, reservation_id: str = "", prompt: int = 1000, **changes):
    return dataclasses.replace(usage(request_id, reservation_id, prompt=prompt),
                               **({"tags": {"k": "v" * 8200}} | changes))


async def budget_state(billing):
    [state] = await billing.store.list_budgets(now_ms=int(time.time() * 1000))
    return state.spent_nano_usd, state.reserved_nano_usd


async def test_a_refused_settlement_is_taken_out_of_its_batch_and_the_rest_settle(billing) -> None:
    await billing.set_budget("project", "proj_default", "total", 100 * CENT, hard=True)
    held = await reserve(billing, "bad", 5 * CENT)
    batch = [usage("ok-1"), poisoned("bad", held.reservation_id), usage("ok-2")]
    answers = await billing.settle_batch(batch, [b"one", b"two", b"three"])

    assert [type(a).__name__ for a in answers] == ["Receipt", "DeadLetter", "Receipt"]
    letter = answers[1]
    assert letter.reason == "tags: a tag value must be at most 256 characters (got 8200)"
    assert (letter.charge_basis, letter.charged_cost_nano_usd, letter.payload) == ("priced", CENT, b"two")
    # All three count against the budget (the refused one at its priced cost); its reservation is settled.
    assert await budget_state(billing) == (3 * CENT, 0)
    assert await billing.store.get_receipt("rcpt_ok-2") is not None

    again = await billing.settle_batch([poisoned("bad", held.reservation_id)], [b"two"])
    assert again[0].id == letter.id, "a redelivered refusal is recorded once"
    assert await budget_state(billing) == (3 * CENT, 0)
    letters, total = await billing.dead_letters()
    assert total == 1 and letters[0].id == letter.id


async def test_a_settlement_that_cannot_be_priced_is_charged_its_reservation(billing) -> None:
    await billing.set_budget("project", "proj_default", "total", 100 * CENT, hard=True)
    held = await reserve(billing, "unpriced", 4 * CENT)
    bad_price = dataclasses.replace(usage("unpriced", held.reservation_id).price, input_per_mtok_usd="ten")
    [letter] = await billing.settle_batch([poisoned("unpriced", held.reservation_id, tags={}, price=bad_price)])
    assert letter.reason == "price: cannot be computed (InvalidOperation)"
    assert (letter.charge_basis, letter.charged_cost_nano_usd) == ("reserved", 4 * CENT)
    assert await budget_state(billing) == (4 * CENT, 0)


async def test_an_id_with_a_nul_is_kept_readable(billing) -> None:
    [letter] = await billing.settle_batch([poisoned("nul\x00id", tags={})], [b"raw"])
    assert letter.reason == "request_id: a request id must not contain control characters"
    assert letter.request_id == "nul\ufffdid" and letter.payload == b"raw"


async def test_a_refusal_only_the_database_sees_is_found_by_storing_each_alone(billing, database_url,
                                                                                monkeypatch) -> None:
    """With the checks before the database switched off, PostgreSQL's own refusal (varchar(256))
    is what isolates the poisoned settlement; SQLite enforces no length and stores it."""
    monkeypatch.setattr(settlement, "refusal", lambda usage: None)
    answers = await billing.settle_batch([usage("db-1"), poisoned("db-bad"), usage("db-2")])
    if database_url.startswith("sqlite"):
        assert all(not isinstance(a, DeadLetter) for a in answers)
        return
    assert [type(a).__name__ for a in answers] == ["Receipt", "DeadLetter", "Receipt"]
    assert answers[1].reason == "the database refused it: StringDataRightTruncationError (22001)"
    assert "v" * 10 not in answers[1].reason


async def test_an_expired_reservation_counts_as_spent_until_its_settlement_corrects_it(billing) -> None:
    await billing.set_budget("project", "proj_default", "total", 10 * CENT, hard=True)
    billing.reservation_ttl_ms = 0
    late = await reserve(billing, "late", 6 * CENT)
    lost = await reserve(billing, "lost", 3 * CENT)
    time.sleep(0.002)
    assert await billing.expire_reservations() == 2
    # The worst cases stay counted: room for 1 cent only, although nothing has settled.
    assert await budget_state(billing) == (9 * CENT, 0)
    with pytest.raises(GatewayError) as refused:
        await reserve(billing, "more", 2 * CENT)
    assert refused.value.code == "budget_exceeded"

    await billing.settle(usage("late", late.reservation_id))  # real cost one cent replaces its 6
    assert await budget_state(billing) == (4 * CENT, 0)
    assert await billing.release(lost.reservation_id, "lost"), "a failed request gives its worst case back"
    assert await budget_state(billing) == (CENT, 0)
    assert not await billing.release(lost.reservation_id, "lost")


async def test_a_hard_budget_holds_while_every_settlement_is_refused(billing) -> None:
    """Billing refusing settlements (dead letters) never releases room: spend stays within the limit."""
    await billing.set_budget("project", "proj_default", "total", 10 * CENT, hard=True)
    admitted = 0
    for index in range(30):
        try:
            held = await reserve(billing, f"p{index}", 2 * CENT)
        except GatewayError:
            continue
        admitted += 1
        await billing.settle_batch([poisoned(f"p{index}", held.reservation_id, prompt=3000)])
        await billing.expire_reservations()
    spent, reserved = await budget_state(billing)
    assert admitted == 3 and spent == 9 * CENT and reserved == 0
    assert spent <= 10 * CENT
