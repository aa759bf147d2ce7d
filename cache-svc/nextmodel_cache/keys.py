"""The exact-cache key. CacheSafety Bench imports this very function, so it measures production.

The key covers the tenant namespace, the requested model or policy, and the canonical
JSON of every request field except a short deny-list of fields that cannot change the
answer. Unknown new fields are part of the key: an allow-list would silently serve a
cached answer for a request with a new parameter. Message text is never normalised.
"""

from __future__ import annotations

import hashlib

import orjson

# Fields that cannot change the answer (docs/ARCHITECTURE.md, "Exact cache").
IGNORED_FIELDS = frozenset(
    {"stream", "stream_options", "user", "safety_identifier", "metadata", "store", "prompt_cache_key"}
)


class NotCacheable(ValueError):
    """The body is not a JSON object (the router refuses such requests before asking)."""


def _normalise(value):
    """Numbers: 1 and 1.0 are the same number. Everything else is kept as is."""
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


def canonical_request(body: dict) -> bytes:
    """Sorted keys, no insignificant whitespace, numbers normalised, ignored fields dropped."""
    kept = {k: v for k, v in body.items() if k not in IGNORED_FIELDS}
    return orjson.dumps(_normalise(kept), option=orjson.OPT_SORT_KEYS)


def cache_key(namespace: str, requested: str, body_json: bytes) -> str:
    try:
        body = orjson.loads(body_json)
    except orjson.JSONDecodeError as bad:
        raise NotCacheable(str(bad)) from None
    if not isinstance(body, dict):
        raise NotCacheable("the request body is not a JSON object")
    digest = hashlib.sha256()
    for part in (namespace.encode(), requested.encode(), canonical_request(body)):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return "nm:v1:" + digest.hexdigest()
