"""Identifiers: request ids and receipt ids (`rcpt_<ulid>`)."""

from __future__ import annotations

from ulid import ULID


def new_request_id() -> str:
    return f"req_{ULID()}"


def new_receipt_id() -> str:
    return f"rcpt_{ULID()}"
