from nextmodel.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AuthenticateKeyRequest(_message.Message):
    __slots__ = ("api_key",)
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    api_key: str
    def __init__(self, api_key: _Optional[str] = ...) -> None: ...

class Principal(_message.Message):
    __slots__ = ("key_id", "key_prefix", "project_id", "team_id", "allowed_models", "default_policy", "tags", "cache_ttl_seconds", "cache_enabled", "cache_ttl_entry_seconds", "cache_discount_bps", "cache_sampled", "cache_namespace", "has_budget", "requests_per_minute", "tokens_per_minute", "own_key_providers", "cache_shared_in_team", "budget_remaining_bps", "expires_unix_ms")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_PREFIX_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_MODELS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_POLICY_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    CACHE_TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CACHE_ENABLED_FIELD_NUMBER: _ClassVar[int]
    CACHE_TTL_ENTRY_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CACHE_DISCOUNT_BPS_FIELD_NUMBER: _ClassVar[int]
    CACHE_SAMPLED_FIELD_NUMBER: _ClassVar[int]
    CACHE_NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    HAS_BUDGET_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    TOKENS_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    OWN_KEY_PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    CACHE_SHARED_IN_TEAM_FIELD_NUMBER: _ClassVar[int]
    BUDGET_REMAINING_BPS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    key_prefix: str
    project_id: str
    team_id: str
    allowed_models: _containers.RepeatedScalarFieldContainer[str]
    default_policy: str
    tags: _containers.ScalarMap[str, str]
    cache_ttl_seconds: int
    cache_enabled: bool
    cache_ttl_entry_seconds: int
    cache_discount_bps: int
    cache_sampled: bool
    cache_namespace: str
    has_budget: bool
    requests_per_minute: int
    tokens_per_minute: int
    own_key_providers: _containers.RepeatedScalarFieldContainer[str]
    cache_shared_in_team: bool
    budget_remaining_bps: int
    expires_unix_ms: int
    def __init__(self, key_id: _Optional[str] = ..., key_prefix: _Optional[str] = ..., project_id: _Optional[str] = ..., team_id: _Optional[str] = ..., allowed_models: _Optional[_Iterable[str]] = ..., default_policy: _Optional[str] = ..., tags: _Optional[_Mapping[str, str]] = ..., cache_ttl_seconds: _Optional[int] = ..., cache_enabled: _Optional[bool] = ..., cache_ttl_entry_seconds: _Optional[int] = ..., cache_discount_bps: _Optional[int] = ..., cache_sampled: _Optional[bool] = ..., cache_namespace: _Optional[str] = ..., has_budget: _Optional[bool] = ..., requests_per_minute: _Optional[int] = ..., tokens_per_minute: _Optional[int] = ..., own_key_providers: _Optional[_Iterable[str]] = ..., cache_shared_in_team: _Optional[bool] = ..., budget_remaining_bps: _Optional[int] = ..., expires_unix_ms: _Optional[int] = ...) -> None: ...

class ReserveRequest(_message.Message):
    __slots__ = ("request_id", "key_id", "project_id", "team_id", "amount_nano_usd")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    key_id: str
    project_id: str
    team_id: str
    amount_nano_usd: int
    def __init__(self, request_id: _Optional[str] = ..., key_id: _Optional[str] = ..., project_id: _Optional[str] = ..., team_id: _Optional[str] = ..., amount_nano_usd: _Optional[int] = ...) -> None: ...

class Reservation(_message.Message):
    __slots__ = ("reservation_id", "budget_remaining_nano_usd", "soft_limit_exceeded")
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    BUDGET_REMAINING_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    SOFT_LIMIT_EXCEEDED_FIELD_NUMBER: _ClassVar[int]
    reservation_id: str
    budget_remaining_nano_usd: int
    soft_limit_exceeded: bool
    def __init__(self, reservation_id: _Optional[str] = ..., budget_remaining_nano_usd: _Optional[int] = ..., soft_limit_exceeded: _Optional[bool] = ...) -> None: ...

class ReleaseRequest(_message.Message):
    __slots__ = ("reservation_id", "request_id")
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    reservation_id: str
    request_id: str
    def __init__(self, reservation_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ReleaseResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Price(_message.Message):
    __slots__ = ("version", "input_per_mtok_usd", "cached_input_per_mtok_usd", "output_per_mtok_usd")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    INPUT_PER_MTOK_USD_FIELD_NUMBER: _ClassVar[int]
    CACHED_INPUT_PER_MTOK_USD_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_PER_MTOK_USD_FIELD_NUMBER: _ClassVar[int]
    version: str
    input_per_mtok_usd: str
    cached_input_per_mtok_usd: str
    output_per_mtok_usd: str
    def __init__(self, version: _Optional[str] = ..., input_per_mtok_usd: _Optional[str] = ..., cached_input_per_mtok_usd: _Optional[str] = ..., output_per_mtok_usd: _Optional[str] = ...) -> None: ...

class SettleBatchRequest(_message.Message):
    __slots__ = ("settlements",)
    SETTLEMENTS_FIELD_NUMBER: _ClassVar[int]
    settlements: _containers.RepeatedCompositeFieldContainer[SettleRequest]
    def __init__(self, settlements: _Optional[_Iterable[_Union[SettleRequest, _Mapping]]] = ...) -> None: ...

class SettleBatchResponse(_message.Message):
    __slots__ = ("receipt_ids", "dead_letter_ids")
    RECEIPT_IDS_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTER_IDS_FIELD_NUMBER: _ClassVar[int]
    receipt_ids: _containers.RepeatedScalarFieldContainer[str]
    dead_letter_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, receipt_ids: _Optional[_Iterable[str]] = ..., dead_letter_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class SettleRequest(_message.Message):
    __slots__ = ("request_id", "receipt_id", "reservation_id", "key_id", "project_id", "team_id", "requested_model", "served_model", "provider", "legacy_served_mode", "legacy_usage_source", "prompt_tokens", "completion_tokens", "cached_prompt_tokens", "price", "discount_bps", "latency_ms", "status", "tags", "replayed_receipt_id", "credential_source", "route_reason", "created_unix_ms", "cache_write_tokens", "attempts", "served_mode", "usage_source")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_ID_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_MODEL_FIELD_NUMBER: _ClassVar[int]
    SERVED_MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    LEGACY_SERVED_MODE_FIELD_NUMBER: _ClassVar[int]
    LEGACY_USAGE_SOURCE_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHED_PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_BPS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_RECEIPT_ID_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_SOURCE_FIELD_NUMBER: _ClassVar[int]
    ROUTE_REASON_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    CACHE_WRITE_TOKENS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    SERVED_MODE_FIELD_NUMBER: _ClassVar[int]
    USAGE_SOURCE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    receipt_id: str
    reservation_id: str
    key_id: str
    project_id: str
    team_id: str
    requested_model: str
    served_model: str
    provider: str
    legacy_served_mode: str
    legacy_usage_source: str
    prompt_tokens: int
    completion_tokens: int
    cached_prompt_tokens: int
    price: Price
    discount_bps: int
    latency_ms: int
    status: str
    tags: _containers.ScalarMap[str, str]
    replayed_receipt_id: str
    credential_source: str
    route_reason: str
    created_unix_ms: int
    cache_write_tokens: int
    attempts: _containers.RepeatedCompositeFieldContainer[_common_pb2.Attempt]
    served_mode: _common_pb2.ServedMode
    usage_source: _common_pb2.UsageSource
    def __init__(self, request_id: _Optional[str] = ..., receipt_id: _Optional[str] = ..., reservation_id: _Optional[str] = ..., key_id: _Optional[str] = ..., project_id: _Optional[str] = ..., team_id: _Optional[str] = ..., requested_model: _Optional[str] = ..., served_model: _Optional[str] = ..., provider: _Optional[str] = ..., legacy_served_mode: _Optional[str] = ..., legacy_usage_source: _Optional[str] = ..., prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ..., cached_prompt_tokens: _Optional[int] = ..., price: _Optional[_Union[Price, _Mapping]] = ..., discount_bps: _Optional[int] = ..., latency_ms: _Optional[int] = ..., status: _Optional[str] = ..., tags: _Optional[_Mapping[str, str]] = ..., replayed_receipt_id: _Optional[str] = ..., credential_source: _Optional[str] = ..., route_reason: _Optional[str] = ..., created_unix_ms: _Optional[int] = ..., cache_write_tokens: _Optional[int] = ..., attempts: _Optional[_Iterable[_Union[_common_pb2.Attempt, _Mapping]]] = ..., served_mode: _Optional[_Union[_common_pb2.ServedMode, str]] = ..., usage_source: _Optional[_Union[_common_pb2.UsageSource, str]] = ...) -> None: ...

class Receipt(_message.Message):
    __slots__ = ("id", "request_id", "created_unix_ms", "key_id", "project_id", "team_id", "requested_model", "served_model", "provider", "prompt_tokens", "completion_tokens", "cached_prompt_tokens", "price", "list_cost_nano_usd", "discount_nano_usd", "charged_cost_nano_usd", "latency_ms", "status", "tags", "replayed_receipt_id", "credential_source", "route_reason", "signature", "attempts", "signed_json", "served_mode", "usage_source")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_MODEL_FIELD_NUMBER: _ClassVar[int]
    SERVED_MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHED_PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    LIST_COST_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    CHARGED_COST_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_RECEIPT_ID_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_SOURCE_FIELD_NUMBER: _ClassVar[int]
    ROUTE_REASON_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    SIGNED_JSON_FIELD_NUMBER: _ClassVar[int]
    SERVED_MODE_FIELD_NUMBER: _ClassVar[int]
    USAGE_SOURCE_FIELD_NUMBER: _ClassVar[int]
    id: str
    request_id: str
    created_unix_ms: int
    key_id: str
    project_id: str
    team_id: str
    requested_model: str
    served_model: str
    provider: str
    prompt_tokens: int
    completion_tokens: int
    cached_prompt_tokens: int
    price: Price
    list_cost_nano_usd: int
    discount_nano_usd: int
    charged_cost_nano_usd: int
    latency_ms: int
    status: str
    tags: _containers.ScalarMap[str, str]
    replayed_receipt_id: str
    credential_source: str
    route_reason: str
    signature: str
    attempts: _containers.RepeatedCompositeFieldContainer[_common_pb2.Attempt]
    signed_json: bytes
    served_mode: _common_pb2.ServedMode
    usage_source: _common_pb2.UsageSource
    def __init__(self, id: _Optional[str] = ..., request_id: _Optional[str] = ..., created_unix_ms: _Optional[int] = ..., key_id: _Optional[str] = ..., project_id: _Optional[str] = ..., team_id: _Optional[str] = ..., requested_model: _Optional[str] = ..., served_model: _Optional[str] = ..., provider: _Optional[str] = ..., prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ..., cached_prompt_tokens: _Optional[int] = ..., price: _Optional[_Union[Price, _Mapping]] = ..., list_cost_nano_usd: _Optional[int] = ..., discount_nano_usd: _Optional[int] = ..., charged_cost_nano_usd: _Optional[int] = ..., latency_ms: _Optional[int] = ..., status: _Optional[str] = ..., tags: _Optional[_Mapping[str, str]] = ..., replayed_receipt_id: _Optional[str] = ..., credential_source: _Optional[str] = ..., route_reason: _Optional[str] = ..., signature: _Optional[str] = ..., attempts: _Optional[_Iterable[_Union[_common_pb2.Attempt, _Mapping]]] = ..., signed_json: _Optional[bytes] = ..., served_mode: _Optional[_Union[_common_pb2.ServedMode, str]] = ..., usage_source: _Optional[_Union[_common_pb2.UsageSource, str]] = ...) -> None: ...

class GetReceiptRequest(_message.Message):
    __slots__ = ("receipt_id", "project_id")
    RECEIPT_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    receipt_id: str
    project_id: str
    def __init__(self, receipt_id: _Optional[str] = ..., project_id: _Optional[str] = ...) -> None: ...

class ListReceiptsRequest(_message.Message):
    __slots__ = ("project_id", "limit", "after_id")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    AFTER_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    limit: int
    after_id: str
    def __init__(self, project_id: _Optional[str] = ..., limit: _Optional[int] = ..., after_id: _Optional[str] = ...) -> None: ...

class ListReceiptsResponse(_message.Message):
    __slots__ = ("receipts",)
    RECEIPTS_FIELD_NUMBER: _ClassVar[int]
    receipts: _containers.RepeatedCompositeFieldContainer[Receipt]
    def __init__(self, receipts: _Optional[_Iterable[_Union[Receipt, _Mapping]]] = ...) -> None: ...

class GetProviderKeyRequest(_message.Message):
    __slots__ = ("project_id", "provider")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    provider: str
    def __init__(self, project_id: _Optional[str] = ..., provider: _Optional[str] = ...) -> None: ...

class ProviderKey(_message.Message):
    __slots__ = ("present", "api_key")
    PRESENT_FIELD_NUMBER: _ClassVar[int]
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    present: bool
    api_key: str
    def __init__(self, present: _Optional[bool] = ..., api_key: _Optional[str] = ...) -> None: ...
