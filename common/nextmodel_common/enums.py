"""Contract enums by the names the product uses ("fresh", "exact_cache", "upstream"...): the
enum's own value names, lower-cased, without the enum's prefix. No hand-written map to drift."""

from __future__ import annotations

import re
from functools import cache

from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper


@cache
def _prefix(enum: EnumTypeWrapper) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", enum.DESCRIPTOR.name).upper() + "_"


@cache
def name(enum: EnumTypeWrapper, value: int) -> str:
    """`name(ServedMode, SERVED_MODE_EXACT_CACHE)` is "exact_cache"; "" for UNSPECIFIED or unknown."""
    try:
        full = enum.Name(value)
    except ValueError:
        return ""
    short = full.removeprefix(_prefix(enum)).lower()
    return "" if short == "unspecified" else short


@cache
def value(enum: EnumTypeWrapper, short: str) -> int:
    """`value(ServedMode, "exact_cache")` is SERVED_MODE_EXACT_CACHE; 0 (UNSPECIFIED) when unknown."""
    try:
        return enum.Value(_prefix(enum) + short.upper())
    except ValueError:
        return 0
