from dataclasses import replace

from nextmodel_billing.domain import PriceApplied, Usage, build_receipt, verify

SECRET = b"test-secret"
USAGE = Usage(
    request_id="req_1", receipt_id="rcpt_1", key_id="key_1", project_id="proj_a", team_id="team_a",
    requested_model="gpt-4.1", served_model="gpt-4.1", provider="openai", served_mode="exact_cache",
    usage_source="replayed", prompt_tokens=1_000, completion_tokens=500, cached_prompt_tokens=0,
    price=PriceApplied(version="2026-11-28.abc", input_per_mtok_usd="2", cached_input_per_mtok_usd="0.5",
                       output_per_mtok_usd="8"),
    discount_bps=5000, latency_ms=3, status="ok", created_unix_ms=1,
)


def test_receipt_prices_usage_and_applies_the_discount() -> None:
    receipt = build_receipt(USAGE, SECRET)
    assert receipt.list_cost_nano_usd == 1_000 * 2_000 + 500 * 8_000
    assert receipt.discount_nano_usd == receipt.list_cost_nano_usd // 2
    assert receipt.charged_cost_nano_usd == receipt.list_cost_nano_usd - receipt.discount_nano_usd
    assert receipt.price.version == "2026-11-28.abc"


def test_signature_verifies_and_detects_tampering() -> None:
    receipt = build_receipt(USAGE, SECRET)
    assert verify(receipt, SECRET)
    assert not verify(replace(receipt, charged_cost_nano_usd=receipt.charged_cost_nano_usd - 1), SECRET)
    assert not verify(receipt, b"another-secret")
