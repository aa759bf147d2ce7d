from nextmodel.billing.v1 import billing_pb2 as _billing_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Team(_message.Message):
    __slots__ = ("id", "name", "created_unix_ms", "cache_shared")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    CACHE_SHARED_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    created_unix_ms: int
    cache_shared: bool
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., created_unix_ms: _Optional[int] = ..., cache_shared: _Optional[bool] = ...) -> None: ...

class CreateTeamRequest(_message.Message):
    __slots__ = ("name", "cache_shared")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CACHE_SHARED_FIELD_NUMBER: _ClassVar[int]
    name: str
    cache_shared: bool
    def __init__(self, name: _Optional[str] = ..., cache_shared: _Optional[bool] = ...) -> None: ...

class ListTeamsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListTeamsResponse(_message.Message):
    __slots__ = ("teams",)
    TEAMS_FIELD_NUMBER: _ClassVar[int]
    teams: _containers.RepeatedCompositeFieldContainer[Team]
    def __init__(self, teams: _Optional[_Iterable[_Union[Team, _Mapping]]] = ...) -> None: ...

class CacheSettings(_message.Message):
    __slots__ = ("enabled", "ttl_seconds", "discount_bps", "cache_sampled")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_BPS_FIELD_NUMBER: _ClassVar[int]
    CACHE_SAMPLED_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    ttl_seconds: int
    discount_bps: int
    cache_sampled: bool
    def __init__(self, enabled: _Optional[bool] = ..., ttl_seconds: _Optional[int] = ..., discount_bps: _Optional[int] = ..., cache_sampled: _Optional[bool] = ...) -> None: ...

class Project(_message.Message):
    __slots__ = ("id", "team_id", "name", "created_unix_ms", "cache")
    ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    CACHE_FIELD_NUMBER: _ClassVar[int]
    id: str
    team_id: str
    name: str
    created_unix_ms: int
    cache: CacheSettings
    def __init__(self, id: _Optional[str] = ..., team_id: _Optional[str] = ..., name: _Optional[str] = ..., created_unix_ms: _Optional[int] = ..., cache: _Optional[_Union[CacheSettings, _Mapping]] = ...) -> None: ...

class CreateProjectRequest(_message.Message):
    __slots__ = ("team_id", "name", "cache")
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CACHE_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    name: str
    cache: CacheSettings
    def __init__(self, team_id: _Optional[str] = ..., name: _Optional[str] = ..., cache: _Optional[_Union[CacheSettings, _Mapping]] = ...) -> None: ...

class UpdateProjectRequest(_message.Message):
    __slots__ = ("project_id", "name", "cache")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CACHE_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    name: str
    cache: CacheSettings
    def __init__(self, project_id: _Optional[str] = ..., name: _Optional[str] = ..., cache: _Optional[_Union[CacheSettings, _Mapping]] = ...) -> None: ...

class ListProjectsRequest(_message.Message):
    __slots__ = ("team_id",)
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    team_id: str
    def __init__(self, team_id: _Optional[str] = ...) -> None: ...

class ListProjectsResponse(_message.Message):
    __slots__ = ("projects",)
    PROJECTS_FIELD_NUMBER: _ClassVar[int]
    projects: _containers.RepeatedCompositeFieldContainer[Project]
    def __init__(self, projects: _Optional[_Iterable[_Union[Project, _Mapping]]] = ...) -> None: ...

class ApiKey(_message.Message):
    __slots__ = ("id", "project_id", "prefix", "name", "created_unix_ms", "expires_unix_ms", "revoked", "allowed_models", "default_policy", "tags", "requests_per_minute", "tokens_per_minute")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    REVOKED_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_MODELS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_POLICY_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    TOKENS_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    id: str
    project_id: str
    prefix: str
    name: str
    created_unix_ms: int
    expires_unix_ms: int
    revoked: bool
    allowed_models: _containers.RepeatedScalarFieldContainer[str]
    default_policy: str
    tags: _containers.ScalarMap[str, str]
    requests_per_minute: int
    tokens_per_minute: int
    def __init__(self, id: _Optional[str] = ..., project_id: _Optional[str] = ..., prefix: _Optional[str] = ..., name: _Optional[str] = ..., created_unix_ms: _Optional[int] = ..., expires_unix_ms: _Optional[int] = ..., revoked: _Optional[bool] = ..., allowed_models: _Optional[_Iterable[str]] = ..., default_policy: _Optional[str] = ..., tags: _Optional[_Mapping[str, str]] = ..., requests_per_minute: _Optional[int] = ..., tokens_per_minute: _Optional[int] = ...) -> None: ...

class CreateKeyRequest(_message.Message):
    __slots__ = ("project_id", "name", "expires_unix_ms", "allowed_models", "default_policy", "tags", "requests_per_minute", "tokens_per_minute")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_MODELS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_POLICY_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    TOKENS_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    name: str
    expires_unix_ms: int
    allowed_models: _containers.RepeatedScalarFieldContainer[str]
    default_policy: str
    tags: _containers.ScalarMap[str, str]
    requests_per_minute: int
    tokens_per_minute: int
    def __init__(self, project_id: _Optional[str] = ..., name: _Optional[str] = ..., expires_unix_ms: _Optional[int] = ..., allowed_models: _Optional[_Iterable[str]] = ..., default_policy: _Optional[str] = ..., tags: _Optional[_Mapping[str, str]] = ..., requests_per_minute: _Optional[int] = ..., tokens_per_minute: _Optional[int] = ...) -> None: ...

class CreatedKey(_message.Message):
    __slots__ = ("key", "secret")
    KEY_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    key: ApiKey
    secret: str
    def __init__(self, key: _Optional[_Union[ApiKey, _Mapping]] = ..., secret: _Optional[str] = ...) -> None: ...

class UpdateKeyRequest(_message.Message):
    __slots__ = ("key_id", "name", "expires_unix_ms", "set_allowed_models", "allowed_models", "default_policy", "set_tags", "tags", "requests_per_minute", "tokens_per_minute")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    SET_ALLOWED_MODELS_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_MODELS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_POLICY_FIELD_NUMBER: _ClassVar[int]
    SET_TAGS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    TOKENS_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    name: str
    expires_unix_ms: int
    set_allowed_models: bool
    allowed_models: _containers.RepeatedScalarFieldContainer[str]
    default_policy: str
    set_tags: bool
    tags: _containers.ScalarMap[str, str]
    requests_per_minute: int
    tokens_per_minute: int
    def __init__(self, key_id: _Optional[str] = ..., name: _Optional[str] = ..., expires_unix_ms: _Optional[int] = ..., set_allowed_models: _Optional[bool] = ..., allowed_models: _Optional[_Iterable[str]] = ..., default_policy: _Optional[str] = ..., set_tags: _Optional[bool] = ..., tags: _Optional[_Mapping[str, str]] = ..., requests_per_minute: _Optional[int] = ..., tokens_per_minute: _Optional[int] = ...) -> None: ...

class ListKeysRequest(_message.Message):
    __slots__ = ("project_id",)
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    def __init__(self, project_id: _Optional[str] = ...) -> None: ...

class ListKeysResponse(_message.Message):
    __slots__ = ("keys",)
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[ApiKey]
    def __init__(self, keys: _Optional[_Iterable[_Union[ApiKey, _Mapping]]] = ...) -> None: ...

class RevokeKeyRequest(_message.Message):
    __slots__ = ("key_id",)
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    def __init__(self, key_id: _Optional[str] = ...) -> None: ...

class Budget(_message.Message):
    __slots__ = ("id", "scope", "scope_id", "period", "limit_nano_usd", "hard", "period_key", "spent_nano_usd", "reserved_nano_usd", "resets_unix_ms")
    ID_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SCOPE_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    LIMIT_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    HARD_FIELD_NUMBER: _ClassVar[int]
    PERIOD_KEY_FIELD_NUMBER: _ClassVar[int]
    SPENT_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    RESERVED_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    RESETS_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    id: str
    scope: str
    scope_id: str
    period: str
    limit_nano_usd: int
    hard: bool
    period_key: str
    spent_nano_usd: int
    reserved_nano_usd: int
    resets_unix_ms: int
    def __init__(self, id: _Optional[str] = ..., scope: _Optional[str] = ..., scope_id: _Optional[str] = ..., period: _Optional[str] = ..., limit_nano_usd: _Optional[int] = ..., hard: _Optional[bool] = ..., period_key: _Optional[str] = ..., spent_nano_usd: _Optional[int] = ..., reserved_nano_usd: _Optional[int] = ..., resets_unix_ms: _Optional[int] = ...) -> None: ...

class SetBudgetRequest(_message.Message):
    __slots__ = ("scope", "scope_id", "period", "limit_nano_usd", "hard")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SCOPE_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    LIMIT_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    HARD_FIELD_NUMBER: _ClassVar[int]
    scope: str
    scope_id: str
    period: str
    limit_nano_usd: int
    hard: bool
    def __init__(self, scope: _Optional[str] = ..., scope_id: _Optional[str] = ..., period: _Optional[str] = ..., limit_nano_usd: _Optional[int] = ..., hard: _Optional[bool] = ...) -> None: ...

class ListBudgetsRequest(_message.Message):
    __slots__ = ("scope", "scope_id")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SCOPE_ID_FIELD_NUMBER: _ClassVar[int]
    scope: str
    scope_id: str
    def __init__(self, scope: _Optional[str] = ..., scope_id: _Optional[str] = ...) -> None: ...

class ListBudgetsResponse(_message.Message):
    __slots__ = ("budgets",)
    BUDGETS_FIELD_NUMBER: _ClassVar[int]
    budgets: _containers.RepeatedCompositeFieldContainer[Budget]
    def __init__(self, budgets: _Optional[_Iterable[_Union[Budget, _Mapping]]] = ...) -> None: ...

class DeleteBudgetRequest(_message.Message):
    __slots__ = ("budget_id",)
    BUDGET_ID_FIELD_NUMBER: _ClassVar[int]
    budget_id: str
    def __init__(self, budget_id: _Optional[str] = ...) -> None: ...

class DeleteBudgetResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ProviderKeyInfo(_message.Message):
    __slots__ = ("project_id", "provider", "present", "updated_unix_ms")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    PRESENT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    provider: str
    present: bool
    updated_unix_ms: int
    def __init__(self, project_id: _Optional[str] = ..., provider: _Optional[str] = ..., present: _Optional[bool] = ..., updated_unix_ms: _Optional[int] = ...) -> None: ...

class SetProviderKeyRequest(_message.Message):
    __slots__ = ("project_id", "provider", "api_key")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    provider: str
    api_key: str
    def __init__(self, project_id: _Optional[str] = ..., provider: _Optional[str] = ..., api_key: _Optional[str] = ...) -> None: ...

class DeleteProviderKeyRequest(_message.Message):
    __slots__ = ("project_id", "provider")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    provider: str
    def __init__(self, project_id: _Optional[str] = ..., provider: _Optional[str] = ...) -> None: ...

class ListProviderKeysRequest(_message.Message):
    __slots__ = ("project_id",)
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    def __init__(self, project_id: _Optional[str] = ...) -> None: ...

class ListProviderKeysResponse(_message.Message):
    __slots__ = ("keys",)
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[ProviderKeyInfo]
    def __init__(self, keys: _Optional[_Iterable[_Union[ProviderKeyInfo, _Mapping]]] = ...) -> None: ...

class UsageQuery(_message.Message):
    __slots__ = ("group_by", "start_unix_ms", "end_unix_ms", "project_id", "team_id", "key_id", "model", "provider", "served_mode", "tags", "format")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    START_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    END_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    SERVED_MODE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    group_by: str
    start_unix_ms: int
    end_unix_ms: int
    project_id: str
    team_id: str
    key_id: str
    model: str
    provider: str
    served_mode: str
    tags: _containers.ScalarMap[str, str]
    format: str
    def __init__(self, group_by: _Optional[str] = ..., start_unix_ms: _Optional[int] = ..., end_unix_ms: _Optional[int] = ..., project_id: _Optional[str] = ..., team_id: _Optional[str] = ..., key_id: _Optional[str] = ..., model: _Optional[str] = ..., provider: _Optional[str] = ..., served_mode: _Optional[str] = ..., tags: _Optional[_Mapping[str, str]] = ..., format: _Optional[str] = ...) -> None: ...

class UsageGroup(_message.Message):
    __slots__ = ("group", "requests", "prompt_tokens", "completion_tokens", "cached_prompt_tokens", "list_cost_nano_usd", "discount_nano_usd", "charged_cost_nano_usd")
    GROUP_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHED_PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    LIST_COST_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    CHARGED_COST_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    group: str
    requests: int
    prompt_tokens: int
    completion_tokens: int
    cached_prompt_tokens: int
    list_cost_nano_usd: int
    discount_nano_usd: int
    charged_cost_nano_usd: int
    def __init__(self, group: _Optional[str] = ..., requests: _Optional[int] = ..., prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ..., cached_prompt_tokens: _Optional[int] = ..., list_cost_nano_usd: _Optional[int] = ..., discount_nano_usd: _Optional[int] = ..., charged_cost_nano_usd: _Optional[int] = ...) -> None: ...

class UsageSummary(_message.Message):
    __slots__ = ("groups", "total")
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    groups: _containers.RepeatedCompositeFieldContainer[UsageGroup]
    total: UsageGroup
    def __init__(self, groups: _Optional[_Iterable[_Union[UsageGroup, _Mapping]]] = ..., total: _Optional[_Union[UsageGroup, _Mapping]] = ...) -> None: ...

class ExportChunk(_message.Message):
    __slots__ = ("data",)
    DATA_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    def __init__(self, data: _Optional[bytes] = ...) -> None: ...

class ListDeadLettersRequest(_message.Message):
    __slots__ = ("limit", "after_id")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    AFTER_ID_FIELD_NUMBER: _ClassVar[int]
    limit: int
    after_id: str
    def __init__(self, limit: _Optional[int] = ..., after_id: _Optional[str] = ...) -> None: ...

class DeadLetter(_message.Message):
    __slots__ = ("id", "created_unix_ms", "request_id", "receipt_id", "key_id", "project_id", "team_id", "charged_cost_nano_usd", "charge_basis", "reason", "payload")
    ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    CHARGED_COST_NANO_USD_FIELD_NUMBER: _ClassVar[int]
    CHARGE_BASIS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    id: str
    created_unix_ms: int
    request_id: str
    receipt_id: str
    key_id: str
    project_id: str
    team_id: str
    charged_cost_nano_usd: int
    charge_basis: str
    reason: str
    payload: bytes
    def __init__(self, id: _Optional[str] = ..., created_unix_ms: _Optional[int] = ..., request_id: _Optional[str] = ..., receipt_id: _Optional[str] = ..., key_id: _Optional[str] = ..., project_id: _Optional[str] = ..., team_id: _Optional[str] = ..., charged_cost_nano_usd: _Optional[int] = ..., charge_basis: _Optional[str] = ..., reason: _Optional[str] = ..., payload: _Optional[bytes] = ...) -> None: ...

class ListDeadLettersResponse(_message.Message):
    __slots__ = ("dead_letters", "total")
    DEAD_LETTERS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    dead_letters: _containers.RepeatedCompositeFieldContainer[DeadLetter]
    total: int
    def __init__(self, dead_letters: _Optional[_Iterable[_Union[DeadLetter, _Mapping]]] = ..., total: _Optional[int] = ...) -> None: ...

class WhoAmIRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Caller(_message.Message):
    __slots__ = ("admin", "project_id", "team_id")
    ADMIN_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_ID_FIELD_NUMBER: _ClassVar[int]
    admin: bool
    project_id: str
    team_id: str
    def __init__(self, admin: _Optional[bool] = ..., project_id: _Optional[str] = ..., team_id: _Optional[str] = ...) -> None: ...
