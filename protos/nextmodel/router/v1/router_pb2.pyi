from nextmodel.billing.v1 import billing_pb2 as _billing_pb2
from nextmodel.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CacheMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CACHE_MODE_UNSPECIFIED: _ClassVar[CacheMode]
    CACHE_MODE_ON: _ClassVar[CacheMode]
    CACHE_MODE_OFF: _ClassVar[CacheMode]
    CACHE_MODE_REFRESH: _ClassVar[CacheMode]

class Surface(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SURFACE_UNSPECIFIED: _ClassVar[Surface]
    SURFACE_CHAT_COMPLETIONS: _ClassVar[Surface]
    SURFACE_COMPLETIONS: _ClassVar[Surface]
CACHE_MODE_UNSPECIFIED: CacheMode
CACHE_MODE_ON: CacheMode
CACHE_MODE_OFF: CacheMode
CACHE_MODE_REFRESH: CacheMode
SURFACE_UNSPECIFIED: Surface
SURFACE_CHAT_COMPLETIONS: Surface
SURFACE_COMPLETIONS: Surface

class ChatRequest(_message.Message):
    __slots__ = ("body_json", "model", "stream", "cache_mode", "policy", "tags", "request_id", "surface")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    BODY_JSON_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    CACHE_MODE_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SURFACE_FIELD_NUMBER: _ClassVar[int]
    body_json: bytes
    model: str
    stream: bool
    cache_mode: CacheMode
    policy: str
    tags: _containers.ScalarMap[str, str]
    request_id: str
    surface: Surface
    def __init__(self, body_json: _Optional[bytes] = ..., model: _Optional[str] = ..., stream: _Optional[bool] = ..., cache_mode: _Optional[_Union[CacheMode, str]] = ..., policy: _Optional[str] = ..., tags: _Optional[_Mapping[str, str]] = ..., request_id: _Optional[str] = ..., surface: _Optional[_Union[Surface, str]] = ...) -> None: ...

class TokenUsage(_message.Message):
    __slots__ = ("prompt_tokens", "completion_tokens", "cached_prompt_tokens", "cache_write_tokens", "reasoning_tokens")
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHED_PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_WRITE_TOKENS_FIELD_NUMBER: _ClassVar[int]
    REASONING_TOKENS_FIELD_NUMBER: _ClassVar[int]
    prompt_tokens: int
    completion_tokens: int
    cached_prompt_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int
    def __init__(self, prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ..., cached_prompt_tokens: _Optional[int] = ..., cache_write_tokens: _Optional[int] = ..., reasoning_tokens: _Optional[int] = ...) -> None: ...

class ReceiptFacts(_message.Message):
    __slots__ = ("request_id", "receipt_id", "served_mode", "usage_source", "provider", "requested_model", "served_model", "list_cost_nano_usd", "discount_nano_usd", "charged_cost_nano_usd", "usage", "price_version", "budget_remaining_nano_usd", "route_reason", "attempts", "replayed_receipt_id", "cache_status")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_ID_FIELD_NUMBER: _ClassVar[int]
    SERVED_MODE_FIELD_NUMBER: _ClassVar[int]
    USAGE_SOURCE_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_MODEL_FIELD_NUMBER: _ClassVar[int]
    SERVED_MODEL_FIELD_NUMBER: _ClassVar[int]
    LIST_COST_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    CHARGED_COST_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    PRICE_VERSION_FIELD_NUMBER: _ClassVar[int]
    BUDGET_REMAINING_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    ROUTE_REASON_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_RECEIPT_ID_FIELD_NUMBER: _ClassVar[int]
    CACHE_STATUS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    receipt_id: str
    served_mode: _common_pb2.ServedMode
    usage_source: _common_pb2.UsageSource
    provider: str
    requested_model: str
    served_model: str
    list_cost_nano_usd: int
    discount_nano_usd: int
    charged_cost_nano_usd: int
    usage: TokenUsage
    price_version: str
    budget_remaining_nano_usd: int
    route_reason: str
    attempts: _containers.RepeatedCompositeFieldContainer[_common_pb2.Attempt]
    replayed_receipt_id: str
    cache_status: str
    def __init__(self, request_id: _Optional[str] = ..., receipt_id: _Optional[str] = ..., served_mode: _Optional[_Union[_common_pb2.ServedMode, str]] = ..., usage_source: _Optional[_Union[_common_pb2.UsageSource, str]] = ..., provider: _Optional[str] = ..., requested_model: _Optional[str] = ..., served_model: _Optional[str] = ..., list_cost_nano_usd: _Optional[int] = ..., discount_nano_usd: _Optional[int] = ..., charged_cost_nano_usd: _Optional[int] = ..., usage: _Optional[_Union[TokenUsage, _Mapping]] = ..., price_version: _Optional[str] = ..., budget_remaining_nano_usd: _Optional[int] = ..., route_reason: _Optional[str] = ..., attempts: _Optional[_Iterable[_Union[_common_pb2.Attempt, _Mapping]]] = ..., replayed_receipt_id: _Optional[str] = ..., cache_status: _Optional[str] = ...) -> None: ...

class ChatResponse(_message.Message):
    __slots__ = ("body_json", "receipt")
    BODY_JSON_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    body_json: bytes
    receipt: ReceiptFacts
    def __init__(self, body_json: _Optional[bytes] = ..., receipt: _Optional[_Union[ReceiptFacts, _Mapping]] = ...) -> None: ...

class ChatStreamEvent(_message.Message):
    __slots__ = ("start", "chunk_json", "final", "error")
    START_FIELD_NUMBER: _ClassVar[int]
    CHUNK_JSON_FIELD_NUMBER: _ClassVar[int]
    FINAL_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    start: ReceiptFacts
    chunk_json: bytes
    final: ReceiptFacts
    error: _common_pb2.Error
    def __init__(self, start: _Optional[_Union[ReceiptFacts, _Mapping]] = ..., chunk_json: _Optional[bytes] = ..., final: _Optional[_Union[ReceiptFacts, _Mapping]] = ..., error: _Optional[_Union[_common_pb2.Error, _Mapping]] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ModelInfo(_message.Message):
    __slots__ = ("id", "provider", "created", "shutdown_date", "details_json")
    ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    SHUTDOWN_DATE_FIELD_NUMBER: _ClassVar[int]
    DETAILS_JSON_FIELD_NUMBER: _ClassVar[int]
    id: str
    provider: str
    created: int
    shutdown_date: str
    details_json: bytes
    def __init__(self, id: _Optional[str] = ..., provider: _Optional[str] = ..., created: _Optional[int] = ..., shutdown_date: _Optional[str] = ..., details_json: _Optional[bytes] = ...) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models",)
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[ModelInfo]
    def __init__(self, models: _Optional[_Iterable[_Union[ModelInfo, _Mapping]]] = ...) -> None: ...

class GetReceiptRequest(_message.Message):
    __slots__ = ("receipt_id",)
    RECEIPT_ID_FIELD_NUMBER: _ClassVar[int]
    receipt_id: str
    def __init__(self, receipt_id: _Optional[str] = ...) -> None: ...

class GetCacheStatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CacheStatsResponse(_message.Message):
    __slots__ = ("project_id", "hits", "misses", "entries", "bytes", "coalesced", "saved_nano_usd", "hit_receipts")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    HITS_FIELD_NUMBER: _ClassVar[int]
    MISSES_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    COALESCED_FIELD_NUMBER: _ClassVar[int]
    SAVED_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    HIT_RECEIPTS_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    hits: int
    misses: int
    entries: int
    bytes: int
    coalesced: int
    saved_nano_usd: int
    hit_receipts: int
    def __init__(self, project_id: _Optional[str] = ..., hits: _Optional[int] = ..., misses: _Optional[int] = ..., entries: _Optional[int] = ..., bytes: _Optional[int] = ..., coalesced: _Optional[int] = ..., saved_nano_usd: _Optional[int] = ..., hit_receipts: _Optional[int] = ...) -> None: ...

class QuoteRequest(_message.Message):
    __slots__ = ("body_json", "prompt_tokens", "completion_tokens", "models", "policy")
    BODY_JSON_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    body_json: bytes
    prompt_tokens: int
    completion_tokens: int
    models: _containers.RepeatedScalarFieldContainer[str]
    policy: str
    def __init__(self, body_json: _Optional[bytes] = ..., prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ..., models: _Optional[_Iterable[str]] = ..., policy: _Optional[str] = ...) -> None: ...

class QuoteCandidate(_message.Message):
    __slots__ = ("model", "provider", "region", "fresh_cost_nano_usd", "exact_cache_cost_nano_usd", "latency_p50_ms", "latency_p95_ms", "fits", "unmet", "price_version", "context_window")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    FRESH_COST_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    EXACT_CACHE_COST_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P50_MS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_P95_MS_FIELD_NUMBER: _ClassVar[int]
    FITS_FIELD_NUMBER: _ClassVar[int]
    UNMET_FIELD_NUMBER: _ClassVar[int]
    PRICE_VERSION_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_WINDOW_FIELD_NUMBER: _ClassVar[int]
    model: str
    provider: str
    region: str
    fresh_cost_nano_usd: int
    exact_cache_cost_nano_usd: int
    latency_p50_ms: int
    latency_p95_ms: int
    fits: bool
    unmet: _containers.RepeatedScalarFieldContainer[str]
    price_version: str
    context_window: int
    def __init__(self, model: _Optional[str] = ..., provider: _Optional[str] = ..., region: _Optional[str] = ..., fresh_cost_nano_usd: _Optional[int] = ..., exact_cache_cost_nano_usd: _Optional[int] = ..., latency_p50_ms: _Optional[int] = ..., latency_p95_ms: _Optional[int] = ..., fits: _Optional[bool] = ..., unmet: _Optional[_Iterable[str]] = ..., price_version: _Optional[str] = ..., context_window: _Optional[int] = ...) -> None: ...

class QuoteResponse(_message.Message):
    __slots__ = ("prompt_tokens", "completion_tokens", "cache_discount_bps", "candidates", "needs")
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_DISCOUNT_BPS_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    NEEDS_FIELD_NUMBER: _ClassVar[int]
    prompt_tokens: int
    completion_tokens: int
    cache_discount_bps: int
    candidates: _containers.RepeatedCompositeFieldContainer[QuoteCandidate]
    needs: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ..., cache_discount_bps: _Optional[int] = ..., candidates: _Optional[_Iterable[_Union[QuoteCandidate, _Mapping]]] = ..., needs: _Optional[_Iterable[str]] = ...) -> None: ...

class CompareRequest(_message.Message):
    __slots__ = ("body_json", "models", "tags")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    BODY_JSON_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    body_json: bytes
    models: _containers.RepeatedScalarFieldContainer[str]
    tags: _containers.ScalarMap[str, str]
    def __init__(self, body_json: _Optional[bytes] = ..., models: _Optional[_Iterable[str]] = ..., tags: _Optional[_Mapping[str, str]] = ...) -> None: ...

class CompareResult(_message.Message):
    __slots__ = ("model", "body_json", "receipt", "error", "latency_ms")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    BODY_JSON_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    model: str
    body_json: bytes
    receipt: ReceiptFacts
    error: _common_pb2.Error
    latency_ms: int
    def __init__(self, model: _Optional[str] = ..., body_json: _Optional[bytes] = ..., receipt: _Optional[_Union[ReceiptFacts, _Mapping]] = ..., error: _Optional[_Union[_common_pb2.Error, _Mapping]] = ..., latency_ms: _Optional[int] = ...) -> None: ...

class CompareResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[CompareResult]
    def __init__(self, results: _Optional[_Iterable[_Union[CompareResult, _Mapping]]] = ...) -> None: ...
