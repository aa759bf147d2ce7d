from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class ServedMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SERVED_MODE_UNSPECIFIED: _ClassVar[ServedMode]
    SERVED_MODE_FRESH: _ClassVar[ServedMode]
    SERVED_MODE_EXACT_CACHE: _ClassVar[ServedMode]

class UsageSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    USAGE_SOURCE_UNSPECIFIED: _ClassVar[UsageSource]
    USAGE_SOURCE_UPSTREAM: _ClassVar[UsageSource]
    USAGE_SOURCE_ESTIMATED: _ClassVar[UsageSource]
    USAGE_SOURCE_REPLAYED: _ClassVar[UsageSource]
SERVED_MODE_UNSPECIFIED: ServedMode
SERVED_MODE_FRESH: ServedMode
SERVED_MODE_EXACT_CACHE: ServedMode
USAGE_SOURCE_UNSPECIFIED: UsageSource
USAGE_SOURCE_UPSTREAM: UsageSource
USAGE_SOURCE_ESTIMATED: UsageSource
USAGE_SOURCE_REPLAYED: UsageSource

class Error(_message.Message):
    __slots__ = ("http_status", "type", "code", "param", "message", "retry_after_seconds")
    HTTP_STATUS_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    PARAM_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_SECONDS_FIELD_NUMBER: _ClassVar[int]
    http_status: int
    type: str
    code: str
    param: str
    message: str
    retry_after_seconds: int
    def __init__(self, http_status: _Optional[int] = ..., type: _Optional[str] = ..., code: _Optional[str] = ..., param: _Optional[str] = ..., message: _Optional[str] = ..., retry_after_seconds: _Optional[int] = ...) -> None: ...

class Attempt(_message.Message):
    __slots__ = ("provider", "model", "outcome", "latency_ms")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    provider: str
    model: str
    outcome: str
    latency_ms: int
    def __init__(self, provider: _Optional[str] = ..., model: _Optional[str] = ..., outcome: _Optional[str] = ..., latency_ms: _Optional[int] = ...) -> None: ...
