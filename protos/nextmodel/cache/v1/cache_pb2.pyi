from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LookupRequest(_message.Message):
    __slots__ = ("namespace", "requested", "body_json", "skip_read", "coalesce_timeout_ms", "project_id")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_FIELD_NUMBER: _ClassVar[int]
    BODY_JSON_FIELD_NUMBER: _ClassVar[int]
    SKIP_READ_FIELD_NUMBER: _ClassVar[int]
    COALESCE_TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    requested: str
    body_json: bytes
    skip_read: bool
    coalesce_timeout_ms: int
    project_id: str
    def __init__(self, namespace: _Optional[str] = ..., requested: _Optional[str] = ..., body_json: _Optional[bytes] = ..., skip_read: _Optional[bool] = ..., coalesce_timeout_ms: _Optional[int] = ..., project_id: _Optional[str] = ...) -> None: ...

class CacheEntry(_message.Message):
    __slots__ = ("response_json", "receipt_id", "provider", "served_model", "stored_at_unix_ms", "list_cost_nano_usd")
    RESPONSE_JSON_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    SERVED_MODEL_FIELD_NUMBER: _ClassVar[int]
    STORED_AT_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    LIST_COST_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    response_json: bytes
    receipt_id: str
    provider: str
    served_model: str
    stored_at_unix_ms: int
    list_cost_nano_usd: int
    def __init__(self, response_json: _Optional[bytes] = ..., receipt_id: _Optional[str] = ..., provider: _Optional[str] = ..., served_model: _Optional[str] = ..., stored_at_unix_ms: _Optional[int] = ..., list_cost_nano_usd: _Optional[int] = ...) -> None: ...

class LookupResponse(_message.Message):
    __slots__ = ("cache_key", "hit", "entry", "leader", "degraded", "coalesced")
    CACHE_KEY_FIELD_NUMBER: _ClassVar[int]
    HIT_FIELD_NUMBER: _ClassVar[int]
    ENTRY_FIELD_NUMBER: _ClassVar[int]
    LEADER_FIELD_NUMBER: _ClassVar[int]
    DEGRADED_FIELD_NUMBER: _ClassVar[int]
    COALESCED_FIELD_NUMBER: _ClassVar[int]
    cache_key: str
    hit: bool
    entry: CacheEntry
    leader: bool
    degraded: bool
    coalesced: bool
    def __init__(self, cache_key: _Optional[str] = ..., hit: _Optional[bool] = ..., entry: _Optional[_Union[CacheEntry, _Mapping]] = ..., leader: _Optional[bool] = ..., degraded: _Optional[bool] = ..., coalesced: _Optional[bool] = ...) -> None: ...

class StoreRequest(_message.Message):
    __slots__ = ("cache_key", "entry", "ttl_seconds", "project_id")
    CACHE_KEY_FIELD_NUMBER: _ClassVar[int]
    ENTRY_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    cache_key: str
    entry: CacheEntry
    ttl_seconds: int
    project_id: str
    def __init__(self, cache_key: _Optional[str] = ..., entry: _Optional[_Union[CacheEntry, _Mapping]] = ..., ttl_seconds: _Optional[int] = ..., project_id: _Optional[str] = ...) -> None: ...

class StoreResponse(_message.Message):
    __slots__ = ("stored", "reason")
    STORED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    stored: bool
    reason: str
    def __init__(self, stored: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...

class StoreBatchRequest(_message.Message):
    __slots__ = ("stores",)
    STORES_FIELD_NUMBER: _ClassVar[int]
    stores: _containers.RepeatedCompositeFieldContainer[StoreRequest]
    def __init__(self, stores: _Optional[_Iterable[_Union[StoreRequest, _Mapping]]] = ...) -> None: ...

class StoreBatchResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[StoreResponse]
    def __init__(self, results: _Optional[_Iterable[_Union[StoreResponse, _Mapping]]] = ...) -> None: ...

class AbandonRequest(_message.Message):
    __slots__ = ("cache_key",)
    CACHE_KEY_FIELD_NUMBER: _ClassVar[int]
    cache_key: str
    def __init__(self, cache_key: _Optional[str] = ...) -> None: ...

class AbandonResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetStatsRequest(_message.Message):
    __slots__ = ("project_id", "namespace")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    namespace: str
    def __init__(self, project_id: _Optional[str] = ..., namespace: _Optional[str] = ...) -> None: ...

class CacheStats(_message.Message):
    __slots__ = ("hits", "misses", "entries", "bytes", "coalesced")
    HITS_FIELD_NUMBER: _ClassVar[int]
    MISSES_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    COALESCED_FIELD_NUMBER: _ClassVar[int]
    hits: int
    misses: int
    entries: int
    bytes: int
    coalesced: int
    def __init__(self, hits: _Optional[int] = ..., misses: _Optional[int] = ..., entries: _Optional[int] = ..., bytes: _Optional[int] = ..., coalesced: _Optional[int] = ...) -> None: ...
