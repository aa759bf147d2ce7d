"""The receipt's fields are declared once (domain.Receipt); the contract and the table follow it."""

from __future__ import annotations

import orjson

from nextmodel.billing.v1 import billing_pb2
from nextmodel_billing.domain import RECEIPT_FIELDS, PriceApplied, Receipt, receipt_from_dict, sign, verify
from nextmodel_billing.servicer import receipt_to_proto
from nextmodel_billing.store.schema import receipts


def test_the_contract_carries_every_field_of_the_receipt() -> None:
    assert set(RECEIPT_FIELDS) <= set(billing_pb2.Receipt.DESCRIPTOR.fields_by_name)


def test_the_table_stores_every_field_of_the_receipt() -> None:
    stored = set(receipts.columns.keys()) | {"price"}  # the price is four columns
    assert set(RECEIPT_FIELDS) <= stored
    assert {"price_version", "input_per_mtok_usd", "cached_input_per_mtok_usd", "output_per_mtok_usd"} <= stored


def test_readers_get_the_signed_form_and_it_verifies() -> None:
    receipt = sign(Receipt(
        id="rcpt_1", request_id="req_1", created_unix_ms=1, key_id="key_1", project_id="proj_1", team_id="team_1",
        requested_model="m", served_model="m", provider="p", served_mode="fresh", usage_source="upstream",
        prompt_tokens=10, completion_tokens=5, cached_prompt_tokens=0,
        price=PriceApplied("v1", "1", "0.5", "2"), list_cost_nano_usd=20, discount_nano_usd=0,
        charged_cost_nano_usd=20, latency_ms=3, status="ok", tags={"env": "prod"}, replayed_receipt_id="",
        credential_source="platform", route_reason="requested", attempts=({"provider": "p", "model": "m",
                                                                            "outcome": "ok", "latency_ms": 3},)),
        b"secret")
    shown = orjson.loads(receipt_to_proto(receipt).signed_json)
    assert set(shown) == set(RECEIPT_FIELDS)
    assert verify(receipt_from_dict(shown), b"secret")


def test_a_settlement_a_previous_router_wrote_keeps_its_served_mode() -> None:
    """Outbox rows of the release before the enums carry the names only (billing.proto)."""
    from nextmodel.common.v1 import common_pb2
    from nextmodel_billing.servicer import usage_from_proto

    legacy = billing_pb2.SettleRequest(request_id="r", receipt_id="rcpt_r", project_id="p",
                                       legacy_served_mode="exact_cache", legacy_usage_source="replayed")
    assert (usage_from_proto(legacy).served_mode, usage_from_proto(legacy).usage_source) == ("exact_cache", "replayed")
    current = billing_pb2.SettleRequest(request_id="r", receipt_id="rcpt_r", project_id="p",
                                        served_mode=common_pb2.SERVED_MODE_FRESH,
                                        usage_source=common_pb2.USAGE_SOURCE_ESTIMATED)
    assert (usage_from_proto(current).served_mode, usage_from_proto(current).usage_source) == ("fresh", "estimated")
