"""Which settlements billing can store, and what it does with one it never can.

A settlement is refused for good when a value in it cannot be stored (longer than its column,
a control character PostgreSQL rejects, a count outside its column's range), when its price
cannot be computed, or when the database itself refuses it as data (`DataError`,
`IntegrityError`). Such a settlement becomes a dead letter: kept whole with the reason, its
charge counted against its budgets, and taken out of its batch so the rest settle. Any other
failure (the database is unreachable, a timeout) is transient and fails the whole batch, which
the router's outbox delivers again later.

Reasons name the field and the rule, never the value: the value is the client's data.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from ulid import ULID

from nextmodel_billing.domain import Receipt, Usage, build_receipt, price_usage
from nextmodel_billing.store.base import DeadLetter
from nextmodel_common import limits

log = logging.getLogger(__name__)

# Refusals a database raises for the data itself: retrying the same row can never succeed.
# SQLAlchemy maps some driver errors to a plain DBAPIError (asyncpg's "value too long" among them),
# so the SQLSTATE class decides: 22 is a data exception, 23 an integrity constraint violation.
PERMANENT_SQLSTATE_CLASSES = ("22", "23")


def is_permanent(failure: BaseException) -> bool:
    """Whether the database refused the data itself (as opposed to being unreachable or busy)."""
    if isinstance(failure, (DataError, IntegrityError)):
        return True
    if not isinstance(failure, DBAPIError):
        return False
    cause: BaseException | None = failure.orig
    for _ in range(4):  # the driver's own exception sits a link or two down the chain
        if cause is None:
            break
        state = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
        if isinstance(state, str) and state[:2] in PERMANENT_SQLSTATE_CLASSES:
            return True
        cause = cause.__cause__
    return False

_INT64 = 2**63 - 1
_INT32 = 2**31 - 1
_WORD = limits.Limit("a value", 16)
_STATUS = limits.Limit("a status", 32)
_PRICE = limits.Limit("a price", 32)
_PRICE_VERSION = limits.Limit("a price version", 64)
_REQUESTED_MODEL = limits.Limit("a model id", limits.REQUESTED_MODEL_STORED)
_OPTIONAL_ID = limits.Limit("an id", limits.ID.max_length)
_OPTIONAL_RECEIPT_ID = limits.Limit("a receipt id", limits.RECEIPT_ID.max_length)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Refused:
    """A settlement that cannot be stored, and why."""

    usage: Usage
    payload: bytes
    reason: str
    charged_cost_nano_usd: int | None = None  # None: its price cannot be computed


def _charge(usage: Usage) -> int | None:
    try:
        charged = price_usage(usage)[2]
    except (ArithmeticError, ValueError):
        return None
    return min(max(charged, 0), _INT64 // 4)  # a budget counter must still be able to add it


def refusal(usage: Usage) -> str | None:
    """Why `usage` can never be stored, or None. Checked before any database work."""
    for field, limit in (("request_id", limits.REQUEST_ID), ("receipt_id", limits.RECEIPT_ID),
                         ("project_id", limits.ID), ("key_id", _OPTIONAL_ID), ("team_id", _OPTIONAL_ID),
                         ("requested_model", _REQUESTED_MODEL), ("served_model", limits.CATALOG_MODEL_ID),
                         ("provider", limits.PROVIDER_ID), ("served_mode", _WORD), ("usage_source", _WORD),
                         ("status", _STATUS), ("credential_source", _WORD),
                         ("replayed_receipt_id", _OPTIONAL_RECEIPT_ID)):
        problem = limit.problem(getattr(usage, field))
        if problem:
            return f"{field}: {problem}"
    price = usage.price
    for field, limit in (("version", _PRICE_VERSION), ("input_per_mtok_usd", _PRICE),
                         ("cached_input_per_mtok_usd", _PRICE), ("output_per_mtok_usd", _PRICE)):
        problem = limit.problem(getattr(price, field))
        if problem:
            return f"price.{field}: {problem}"
    if len(usage.tags) > 2 * limits.TAGS_MAX_COUNT:
        return f"tags: at most {2 * limits.TAGS_MAX_COUNT} tags can be stored (got {len(usage.tags)})"
    for name, value in usage.tags.items():
        problem = limits.TAG_NAME.problem(name) or limits.TAG_VALUE.problem(value)
        if problem:
            return f"tags: {problem}"
    for field, top in (("prompt_tokens", _INT64), ("completion_tokens", _INT64), ("cached_prompt_tokens", _INT64),
                       ("latency_ms", _INT32), ("created_unix_ms", _INT64)):
        if not 0 <= getattr(usage, field) <= top:
            return f"{field}: must be between 0 and {top}"
    if "\x00" in usage.route_reason:
        return "route_reason: must not contain NUL characters"
    return None


def receipts_or_refusals(batch: list[Usage], payloads: list[bytes], secret: bytes) -> list[Receipt | Refused]:
    """Each settlement's signed receipt, or why it is refused before it reaches the database."""
    answers: list[Receipt | Refused] = []
    for usage, payload in zip(batch, payloads, strict=True):
        reason = refusal(usage)
        if reason is not None:
            answers.append(Refused(usage, payload, reason, _charge(usage)))
            continue
        try:
            answers.append(build_receipt(usage, secret))
        except (ArithmeticError, ValueError) as failure:  # a price string that is not a number
            answers.append(Refused(usage, payload, f"price: cannot be computed ({type(failure).__name__})"))
    return answers


def storage_reason(failure: Exception) -> str:
    """The database's refusal, by kind only (its message may quote the value): the driver's error
    class and SQLSTATE, e.g. "the database refused it: StringDataRightTruncationError (22001)"."""
    cause: BaseException | None = getattr(failure, "orig", None) or failure
    named, state = type(cause).__name__, ""
    for _ in range(4):
        if cause is None:
            break
        found = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
        if isinstance(found, str):
            named, state = type(cause).__name__, found
        cause = cause.__cause__
    return f"the database refused it: {named}" + (f" ({state})" if state else "")


def dead_letter_of(refused: Refused, now_ms: int) -> DeadLetter:
    usage = refused.usage
    request_key = hashlib.sha256(usage.request_id.encode() if usage.request_id else refused.payload).hexdigest()
    if refused.charged_cost_nano_usd is not None:
        charge, basis = refused.charged_cost_nano_usd, "priced"
    elif limits.ID.problem(usage.reservation_id) is None:
        charge, basis = 0, "reserved"  # the store reads the reservation's worst case
    else:
        charge, basis = 0, "none"
    created = usage.created_unix_ms if 0 < usage.created_unix_ms <= _INT64 else now_ms
    return DeadLetter(
        id=f"dlq_{ULID()}", request_key=request_key, created_unix_ms=created,
        request_id=_shown(usage.request_id), receipt_id=_shown(usage.receipt_id), key_id=_shown(usage.key_id),
        project_id=_shown(usage.project_id), team_id=_shown(usage.team_id), charged_cost_nano_usd=charge,
        charge_basis=basis, reason=refused.reason, payload=refused.payload,
        reservation_id=usage.reservation_id if limits.ID.problem(usage.reservation_id) is None else "")


def _shown(value: str, length: int = 128) -> str:
    """A refused id as an operator can read and a database can store it: no control characters,
    cut at `length` (the payload keeps it whole)."""
    value = _CONTROL.sub("\ufffd", value)
    return value if len(value) <= length else value[:length] + "…"
