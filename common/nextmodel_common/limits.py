"""The one declaration of how large a user-controlled value may be.

Every value a client sends that reaches storage or gRPC metadata has its limit here. The edge
enforces them with an OpenAI-shaped 400 (401 for credentials) before anything is forwarded; the
router enforces the same ones for internal callers of its gRPC contract; the storage schemas take
their column lengths from these constants, and `tests/test_limits.py` fails when a column is
narrower than the limit of the value stored in it. A value that passes here can always be stored:
no client input can make a database refuse a write.

Lengths are in characters (PostgreSQL's varchar counts characters). Every stored string also
refuses control characters: PostgreSQL rejects NUL in text, and the others have no business in an
identifier or a tag.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

from pydantic import AfterValidator, StringConstraints

from nextmodel_common.errors import GatewayError

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Limit:
    """At most `max_length` characters (at least `min_length`), no control characters."""

    what: str
    max_length: int
    min_length: int = 0

    def problem(self, value: str) -> str | None:
        """Why `value` is refused, in words that name no part of it; None when it fits."""
        if len(value) > self.max_length:
            return f"{self.what} must be at most {self.max_length} characters (got {len(value)})"
        if len(value) < self.min_length:
            return f"{self.what} must be at least {self.min_length} character{'s' if self.min_length > 1 else ''}"
        if _CONTROL.search(value):
            return f"{self.what} must not contain control characters"
        return None

    def check(self, value: str, param: str, *, status: int = 400, code: str = "invalid_value") -> str:
        problem = self.problem(value)
        if problem:
            raise GatewayError(status, problem[0].upper() + problem[1:] + ".", param=param, code=code)
        return value


# -- identifiers --------------------------------------------------------------------------
ID = Limit("an id", 64, 1)  # team, project, key, budget ids and other path parameters
REQUEST_ID = Limit("a request id", 64, 1)
RECEIPT_ID = Limit("a receipt id", 40, 1)
PROVIDER_ID = Limit("a provider id", 64, 1)
MODEL = Limit("a model id", 256, 1)  # what a request names: an id, an alias or nextmodel/<policy>
CATALOG_MODEL_ID = Limit("a catalog model id", 128, 1)
POLICY_NAME = Limit("a policy name", 128, 1)
# The served model a receipt records is a catalog model id; the requested one is what the client
# named (a policy request is recorded as "nextmodel/<policy>").
REQUESTED_MODEL_STORED = max(MODEL.max_length, len("nextmodel/") + POLICY_NAME.max_length)

# -- names and tags -------------------------------------------------------------------------
NAME = Limit("a name", 200, 1)  # teams, projects, keys
TAG_NAME = Limit("a tag name", 64, 1)
TAG_VALUE = Limit("a tag value", 256)
TAGS_MAX_COUNT = 32  # per request (header and key tags together) and per key

# -- credentials ------------------------------------------------------------------------------
# A presented bearer token: project keys are 46 characters, the admin key is the operator's.
# Longer is refused with 401 at the edge (it would not fit gRPC metadata, whose default limit is 8 KiB).
CREDENTIAL = Limit("an API key", 512, 1)
PROVIDER_API_KEY = Limit("a provider API key", 1024, 1)

# -- OpenAI request fields that travel with usage ---------------------------------------------
USER = Limit("'user'", 256)
SAFETY_IDENTIFIER = Limit("'safety_identifier'", 64)  # OpenAI's documented maximum
# OpenAI's documented bounds for `metadata`: 16 pairs, keys up to 64 and values up to 512 characters.
METADATA_MAX_PAIRS = 16
METADATA_KEY = Limit("a metadata key", 64, 1)
METADATA_VALUE = Limit("a metadata value", 512)


def check_tags(tags: Mapping[str, str], param: str) -> Mapping[str, str]:
    """Tags as a client sent them (header, key or internal call): count, names and values."""
    if len(tags) > TAGS_MAX_COUNT:
        raise GatewayError(400, f"At most {TAGS_MAX_COUNT} tags are allowed (got {len(tags)}).", param=param,
                           code="invalid_value")
    for name, value in tags.items():
        TAG_NAME.check(name, param)
        TAG_VALUE.check(value, param)
    return tags


def check_body_fields(body: Mapping) -> None:
    """The OpenAI fields with documented bounds that NextModel carries: `user`, `safety_identifier`
    and `metadata`. Fields the gateway does not read are the provider's to judge."""
    for limit, field in ((USER, "user"), (SAFETY_IDENTIFIER, "safety_identifier")):
        value = body.get(field)
        if value is not None:
            if not isinstance(value, str):
                raise GatewayError(400, f"'{field}' must be a string.", param=field, code="invalid_type")
            limit.check(value, field)
    metadata = body.get("metadata")
    if metadata is None:
        return
    if not isinstance(metadata, dict):
        raise GatewayError(400, "'metadata' must be an object of string values.", param="metadata",
                           code="invalid_type")
    if len(metadata) > METADATA_MAX_PAIRS:
        raise GatewayError(400, f"'metadata' may hold at most {METADATA_MAX_PAIRS} pairs (got {len(metadata)}).",
                           param="metadata", code="invalid_value")
    for key, value in metadata.items():
        METADATA_KEY.check(key, "metadata")
        if not isinstance(value, str):
            raise GatewayError(400, "'metadata' values must be strings.", param="metadata", code="invalid_type")
        METADATA_VALUE.check(value, "metadata")


def _no_control(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


def _text(limit: Limit, *, allow_empty: bool = False) -> Any:
    return Annotated[str, StringConstraints(min_length=None if allow_empty else limit.min_length or None,
                                            max_length=limit.max_length), AfterValidator(_no_control)]


# The limits as pydantic string types, for request models and route parameters. Spelled out so a
# type checker sees each as a type (a call in an annotation is not one).
if TYPE_CHECKING:
    IdText: TypeAlias = str
    NameText: TypeAlias = str
    ModelText: TypeAlias = str
    CatalogModelText: TypeAlias = str
    PolicyText: TypeAlias = str
    PolicyOrEmptyText: TypeAlias = str
    TagNameText: TypeAlias = str
    TagValueText: TypeAlias = str
    ProviderIdText: TypeAlias = str
    ProviderKeyText: TypeAlias = str
else:
    IdText = _text(ID)
    NameText = _text(NAME)
    ModelText = _text(MODEL)
    CatalogModelText = _text(CATALOG_MODEL_ID)
    PolicyText = _text(POLICY_NAME)
    PolicyOrEmptyText = _text(POLICY_NAME, allow_empty=True)
    TagNameText = _text(TAG_NAME)
    TagValueText = _text(TAG_VALUE)
    ProviderIdText = _text(PROVIDER_ID)
    ProviderKeyText = _text(PROVIDER_API_KEY)


# Percent-encoded control characters in a path or query string (raw control bytes never get past
# the HTTP parser): refused at the edge for every route, since no parameter may hold one.
ENCODED_CONTROL = re.compile(rb"%(?:[01][0-9a-fA-F]|7[fF])")


def check_request_facts(*, request_id: str, model: str, policy: str, tags: Mapping[str, str]) -> None:
    """The typed fields of a request to the router, for callers of its gRPC contract that do not
    come through the edge (which checks the same limits on the headers they come from)."""
    if request_id:
        REQUEST_ID.check(request_id, "request_id")
    if model:
        MODEL.check(model, "model")
    if policy:
        POLICY_NAME.check(policy, "x-nextmodel-policy")
    check_tags(tags, "x-nextmodel-tags")
