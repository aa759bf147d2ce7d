from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SetPriceRequest(_message.Message):
    __slots__ = ("model_id", "input_per_mtok_usd", "cached_input_per_mtok_usd", "output_per_mtok_usd", "source", "effective_date")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    INPUT_PER_MTOK_USD_FIELD_NUMBER: _ClassVar[int]
    CACHED_INPUT_PER_MTOK_USD_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_PER_MTOK_USD_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_DATE_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    input_per_mtok_usd: str
    cached_input_per_mtok_usd: str
    output_per_mtok_usd: str
    source: str
    effective_date: str
    def __init__(self, model_id: _Optional[str] = ..., input_per_mtok_usd: _Optional[str] = ..., cached_input_per_mtok_usd: _Optional[str] = ..., output_per_mtok_usd: _Optional[str] = ..., source: _Optional[str] = ..., effective_date: _Optional[str] = ...) -> None: ...

class ListPriceVersionsRequest(_message.Message):
    __slots__ = ("model_id",)
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    def __init__(self, model_id: _Optional[str] = ...) -> None: ...

class ListPriceVersionsResponse(_message.Message):
    __slots__ = ("prices",)
    PRICES_FIELD_NUMBER: _ClassVar[int]
    prices: _containers.RepeatedCompositeFieldContainer[Price]
    def __init__(self, prices: _Optional[_Iterable[_Union[Price, _Mapping]]] = ...) -> None: ...

class DeletePolicyRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeletePolicyResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetSnapshotRequest(_message.Message):
    __slots__ = ("if_version",)
    IF_VERSION_FIELD_NUMBER: _ClassVar[int]
    if_version: str
    def __init__(self, if_version: _Optional[str] = ...) -> None: ...

class Provider(_message.Message):
    __slots__ = ("id", "name", "protocol", "env_prefix", "default_base_url", "region", "quirks_json")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    ENV_PREFIX_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_BASE_URL_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    QUIRKS_JSON_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    protocol: str
    env_prefix: str
    default_base_url: str
    region: str
    quirks_json: bytes
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., protocol: _Optional[str] = ..., env_prefix: _Optional[str] = ..., default_base_url: _Optional[str] = ..., region: _Optional[str] = ..., quirks_json: _Optional[bytes] = ...) -> None: ...

class Price(_message.Message):
    __slots__ = ("version", "input_per_mtok_usd", "cached_input_per_mtok_usd", "output_per_mtok_usd", "source", "effective_date")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    INPUT_PER_MTOK_USD_FIELD_NUMBER: _ClassVar[int]
    CACHED_INPUT_PER_MTOK_USD_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_PER_MTOK_USD_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_DATE_FIELD_NUMBER: _ClassVar[int]
    version: str
    input_per_mtok_usd: str
    cached_input_per_mtok_usd: str
    output_per_mtok_usd: str
    source: str
    effective_date: str
    def __init__(self, version: _Optional[str] = ..., input_per_mtok_usd: _Optional[str] = ..., cached_input_per_mtok_usd: _Optional[str] = ..., output_per_mtok_usd: _Optional[str] = ..., source: _Optional[str] = ..., effective_date: _Optional[str] = ...) -> None: ...

class Capabilities(_message.Message):
    __slots__ = ("tools", "vision", "json_schema", "streaming", "reasoning")
    TOOLS_FIELD_NUMBER: _ClassVar[int]
    VISION_FIELD_NUMBER: _ClassVar[int]
    JSON_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    STREAMING_FIELD_NUMBER: _ClassVar[int]
    REASONING_FIELD_NUMBER: _ClassVar[int]
    tools: bool
    vision: bool
    json_schema: bool
    streaming: bool
    reasoning: bool
    def __init__(self, tools: _Optional[bool] = ..., vision: _Optional[bool] = ..., json_schema: _Optional[bool] = ..., streaming: _Optional[bool] = ..., reasoning: _Optional[bool] = ...) -> None: ...

class Model(_message.Message):
    __slots__ = ("id", "provider", "upstream_id", "aliases", "region", "context_window", "max_output_tokens", "price", "capabilities", "shutdown_date", "created", "latency")
    ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    UPSTREAM_ID_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_WINDOW_FIELD_NUMBER: _ClassVar[int]
    MAX_OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    SHUTDOWN_DATE_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    LATENCY_FIELD_NUMBER: _ClassVar[int]
    id: str
    provider: str
    upstream_id: str
    aliases: _containers.RepeatedScalarFieldContainer[str]
    region: str
    context_window: int
    max_output_tokens: int
    price: Price
    capabilities: Capabilities
    shutdown_date: str
    created: int
    latency: LatencyStats
    def __init__(self, id: _Optional[str] = ..., provider: _Optional[str] = ..., upstream_id: _Optional[str] = ..., aliases: _Optional[_Iterable[str]] = ..., region: _Optional[str] = ..., context_window: _Optional[int] = ..., max_output_tokens: _Optional[int] = ..., price: _Optional[_Union[Price, _Mapping]] = ..., capabilities: _Optional[_Union[Capabilities, _Mapping]] = ..., shutdown_date: _Optional[str] = ..., created: _Optional[int] = ..., latency: _Optional[_Union[LatencyStats, _Mapping]] = ...) -> None: ...

class LatencyStats(_message.Message):
    __slots__ = ("ttft_p50_ms", "ttft_p95_ms", "total_p50_ms", "total_p95_ms", "error_rate", "samples")
    TTFT_P50_MS_FIELD_NUMBER: _ClassVar[int]
    TTFT_P95_MS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_P50_MS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_P95_MS_FIELD_NUMBER: _ClassVar[int]
    ERROR_RATE_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    ttft_p50_ms: int
    ttft_p95_ms: int
    total_p50_ms: int
    total_p95_ms: int
    error_rate: float
    samples: int
    def __init__(self, ttft_p50_ms: _Optional[int] = ..., ttft_p95_ms: _Optional[int] = ..., total_p50_ms: _Optional[int] = ..., total_p95_ms: _Optional[int] = ..., error_rate: _Optional[float] = ..., samples: _Optional[int] = ...) -> None: ...

class Policy(_message.Message):
    __slots__ = ("name", "spec_json")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SPEC_JSON_FIELD_NUMBER: _ClassVar[int]
    name: str
    spec_json: bytes
    def __init__(self, name: _Optional[str] = ..., spec_json: _Optional[bytes] = ...) -> None: ...

class CatalogSnapshot(_message.Message):
    __slots__ = ("version", "not_modified", "providers", "models", "policies")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    NOT_MODIFIED_FIELD_NUMBER: _ClassVar[int]
    PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    POLICIES_FIELD_NUMBER: _ClassVar[int]
    version: str
    not_modified: bool
    providers: _containers.RepeatedCompositeFieldContainer[Provider]
    models: _containers.RepeatedCompositeFieldContainer[Model]
    policies: _containers.RepeatedCompositeFieldContainer[Policy]
    def __init__(self, version: _Optional[str] = ..., not_modified: _Optional[bool] = ..., providers: _Optional[_Iterable[_Union[Provider, _Mapping]]] = ..., models: _Optional[_Iterable[_Union[Model, _Mapping]]] = ..., policies: _Optional[_Iterable[_Union[Policy, _Mapping]]] = ...) -> None: ...

class LatencyObservation(_message.Message):
    __slots__ = ("model", "provider", "ttft_ms", "total_ms", "error", "observed_unix_ms")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    TTFT_MS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_MS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    model: str
    provider: str
    ttft_ms: int
    total_ms: int
    error: bool
    observed_unix_ms: int
    def __init__(self, model: _Optional[str] = ..., provider: _Optional[str] = ..., ttft_ms: _Optional[int] = ..., total_ms: _Optional[int] = ..., error: _Optional[bool] = ..., observed_unix_ms: _Optional[int] = ...) -> None: ...

class ReportLatencyRequest(_message.Message):
    __slots__ = ("observations",)
    OBSERVATIONS_FIELD_NUMBER: _ClassVar[int]
    observations: _containers.RepeatedCompositeFieldContainer[LatencyObservation]
    def __init__(self, observations: _Optional[_Iterable[_Union[LatencyObservation, _Mapping]]] = ...) -> None: ...

class ReportLatencyResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
