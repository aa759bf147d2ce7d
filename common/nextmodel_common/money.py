"""Money: integer nano-USD (1e-9 USD) everywhere, Decimal for prices, never float.

Prices are decimal strings in USD per 1M tokens, so the cost of `tokens` at
`price` is tokens * price * 1e9 / 1e6 = tokens * price * 1000 nano-USD.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

NANO_PER_USD = 1_000_000_000
SAR_PER_USD = Decimal("3.75")  # the riyal's peg
_NANO_PER_TOKEN_AT_ONE_USD_PER_MTOK = Decimal(NANO_PER_USD) / Decimal(1_000_000)


def price(value: str | int | Decimal) -> Decimal:
    """Parse a price string ("0.15") strictly; floats are refused."""
    if isinstance(value, float):
        raise TypeError("prices are never floats; pass a decimal string")
    result = Decimal(str(value))
    if not result.is_finite() or result < 0:
        raise ValueError(f"invalid price {value!r}")
    return result


def token_cost_nano(tokens: int, usd_per_mtok: Decimal) -> int:
    """Cost of `tokens` tokens at `usd_per_mtok`, rounded half-up to a whole nano-USD."""
    exact = Decimal(tokens) * usd_per_mtok * _NANO_PER_TOKEN_AT_ONE_USD_PER_MTOK
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def request_cost_nano(
    *,
    prompt_tokens: int,
    completion_tokens: int,
    cached_prompt_tokens: int,
    input_per_mtok: Decimal,
    cached_input_per_mtok: Decimal | None,
    output_per_mtok: Decimal,
) -> int:
    """List cost of one request. `prompt_tokens` includes the cached ones (OpenAI's convention)."""
    cached = min(max(cached_prompt_tokens, 0), prompt_tokens)
    cached_rate = input_per_mtok if cached_input_per_mtok is None else cached_input_per_mtok
    return (
        token_cost_nano(prompt_tokens - cached, input_per_mtok)
        + token_cost_nano(cached, cached_rate)
        + token_cost_nano(completion_tokens, output_per_mtok)
    )


def discount_nano(list_cost: int, discount_bps: int) -> int:
    """The part of `list_cost` taken off at `discount_bps` basis points (5000 = 50%)."""
    exact = Decimal(list_cost) * Decimal(discount_bps) / Decimal(10_000)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def usd(nano: int) -> str:
    """Render nano-USD as a decimal string in USD with all nine places ("0.000123400")."""
    return f"{Decimal(nano) / NANO_PER_USD:.9f}"


def sar(nano: int) -> str:
    """Render nano-USD as a decimal string in SAR at the 3.75 peg."""
    return f"{Decimal(nano) * SAR_PER_USD / NANO_PER_USD:.9f}"
