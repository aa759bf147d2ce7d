"""/admin/v1: teams, projects, keys, budgets and provider keys, guarded by NEXTMODEL_ADMIN_KEY.

The edge only translates: billing checks the admin key (in constant time) and owns every rule.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, TypeAlias

import orjson
from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from nextmodel.billing.v1 import admin_pb2
from nextmodel_common import limits, money
from nextmodel_common.errors import GatewayError
from nextmodel_edge.deps import AuthDep, SettingsDep, UpstreamsDep

router = APIRouter(prefix="/admin/v1")


Name: TypeAlias = limits.NameText
Id: TypeAlias = limits.IdText
ModelId: TypeAlias = limits.ModelText
Policy: TypeAlias = limits.PolicyOrEmptyText
Tags: TypeAlias = dict[limits.TagNameText, limits.TagValueText]
ProviderId: TypeAlias = limits.ProviderIdText


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CacheIn(Strict):
    enabled: bool = True
    ttl_seconds: int = Field(86_400, ge=1, le=30 * 86_400)
    discount_percent: Decimal = Field(Decimal(50), ge=0, le=100, decimal_places=2)
    cache_sampled: bool = False


class TeamIn(Strict):
    name: Name
    cache_shared: bool = False


class ProjectIn(Strict):
    team_id: Id
    name: Name
    cache: CacheIn | None = None


class ProjectPatch(Strict):
    name: Name | None = None
    cache: CacheIn | None = None


class KeyIn(Strict):
    project_id: Id
    name: Name = "api key"
    expires_at: datetime | None = None
    allowed_models: list[ModelId] = Field(default_factory=list, max_length=500)
    default_policy: Policy = ""
    tags: Tags = Field(default_factory=dict, max_length=limits.TAGS_MAX_COUNT)
    requests_per_minute: int = Field(0, ge=0, le=10_000_000)
    tokens_per_minute: int = Field(0, ge=0, le=10_000_000_000)


class KeyPatch(Strict):
    name: Name | None = None
    expires_at: datetime | None = None
    allowed_models: list[ModelId] | None = Field(None, max_length=500)
    default_policy: Policy | None = None
    tags: Tags | None = Field(None, max_length=limits.TAGS_MAX_COUNT)
    requests_per_minute: int | None = Field(None, ge=0, le=10_000_000)
    tokens_per_minute: int | None = Field(None, ge=0, le=10_000_000_000)


class BudgetIn(Strict):
    scope: str = Field(pattern="^(key|project|team)$")
    scope_id: Id
    period: str = Field(pattern="^(daily|weekly|monthly|total)$")
    limit_usd: Decimal = Field(gt=0, max_digits=18, decimal_places=9)
    hard: bool = True


class ProviderKeyIn(Strict):
    api_key: limits.ProviderKeyText


def _unix_ms(moment: datetime | None) -> int:
    if moment is None:
        return 0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        unix_ms = int(moment.timestamp() * 1000)
        datetime.fromtimestamp(unix_ms / 1000, UTC)  # renderable back as a date
    except (OverflowError, ValueError, OSError):
        unix_ms = -1
    if not 0 <= unix_ms <= 253_402_300_799_000:
        raise GatewayError(400, "'expires_at' must be a date-time between 1970 and 9999 (UTC).", param="expires_at",
                           code="invalid_value")
    return unix_ms


def _iso(unix_ms: int) -> str | None:
    if not unix_ms:
        return None
    return datetime.fromtimestamp(unix_ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def _cache_in(cache: CacheIn) -> admin_pb2.CacheSettings:
    return admin_pb2.CacheSettings(enabled=cache.enabled, ttl_seconds=cache.ttl_seconds,
                                   discount_bps=int(cache.discount_percent * 100), cache_sampled=cache.cache_sampled)


def team_out(team: admin_pb2.Team) -> dict:
    return {"object": "team", "id": team.id, "name": team.name, "created_at": _iso(team.created_unix_ms),
            "cache_shared": team.cache_shared}


def project_out(project: admin_pb2.Project) -> dict:
    cache = project.cache
    return {"object": "project", "id": project.id, "team_id": project.team_id, "name": project.name,
            "created_at": _iso(project.created_unix_ms),
            "cache": {"enabled": cache.enabled, "ttl_seconds": cache.ttl_seconds,
                      "discount_percent": str(Decimal(cache.discount_bps) / 100),
                      "cache_sampled": cache.cache_sampled}}


def key_out(key: admin_pb2.ApiKey) -> dict:
    return {"object": "api_key", "id": key.id, "project_id": key.project_id, "prefix": key.prefix,
            "name": key.name, "created_at": _iso(key.created_unix_ms), "expires_at": _iso(key.expires_unix_ms),
            "revoked": key.revoked, "allowed_models": list(key.allowed_models),
            "default_policy": key.default_policy or None, "tags": dict(key.tags),
            "requests_per_minute": key.requests_per_minute, "tokens_per_minute": key.tokens_per_minute}


def budget_out(budget: admin_pb2.Budget) -> dict:
    return {"object": "budget", "id": budget.id, "scope": budget.scope, "scope_id": budget.scope_id,
            "period": budget.period, "hard": budget.hard, "limit_usd": money.usd(budget.limit_nano_usd),
            "period_key": budget.period_key, "spent_usd": money.usd(budget.spent_nano_usd),
            "reserved_usd": money.usd(budget.reserved_nano_usd),
            "remaining_usd": money.usd(budget.limit_nano_usd - budget.spent_nano_usd - budget.reserved_nano_usd),
            "resets_at": _iso(budget.resets_unix_ms)}


def provider_key_out(info: admin_pb2.ProviderKeyInfo) -> dict:
    # The key itself is never returned.
    return {"object": "provider_key", "project_id": info.project_id, "provider": info.provider,
            "present": info.present, "updated_at": _iso(info.updated_unix_ms)}


def _json(body: dict, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


async def _call(rpc, request, auth, settings, render, status: int = 200) -> Response:
    answer = await rpc(request, metadata=auth, timeout=settings.internal_timeout)
    return _json(render(answer), status)


def _list(items, render) -> dict:
    return {"object": "list", "data": [render(item) for item in items]}


@router.post("/teams", status_code=201)
async def create_team(body: TeamIn, upstreams: UpstreamsDep, auth: AuthDep, settings: SettingsDep) -> Response:
    return await _call(upstreams.admin.CreateTeam, admin_pb2.CreateTeamRequest(name=body.name,
                                                                               cache_shared=body.cache_shared),
                       auth, settings, team_out, 201)


@router.get("/teams")
async def list_teams(upstreams: UpstreamsDep, auth: AuthDep, settings: SettingsDep) -> Response:
    return await _call(upstreams.admin.ListTeams, admin_pb2.ListTeamsRequest(), auth, settings,
                       lambda a: _list(a.teams, team_out))


@router.post("/projects", status_code=201)
async def create_project(body: ProjectIn, upstreams: UpstreamsDep, auth: AuthDep, settings: SettingsDep) -> Response:
    request = admin_pb2.CreateProjectRequest(team_id=body.team_id, name=body.name)
    if body.cache is not None:
        request.cache.CopyFrom(_cache_in(body.cache))
    return await _call(upstreams.admin.CreateProject, request, auth, settings, project_out, 201)


@router.patch("/projects/{project_id}")
async def update_project(project_id: Id, body: ProjectPatch, upstreams: UpstreamsDep, auth: AuthDep,
                         settings: SettingsDep) -> Response:
    request = admin_pb2.UpdateProjectRequest(project_id=project_id)
    if body.name is not None:
        request.name = body.name
    if body.cache is not None:
        request.cache.CopyFrom(_cache_in(body.cache))
    return await _call(upstreams.admin.UpdateProject, request, auth, settings, project_out)


@router.get("/projects")
async def list_projects(upstreams: UpstreamsDep, auth: AuthDep, settings: SettingsDep,
                        team_id: str = "") -> Response:
    return await _call(upstreams.admin.ListProjects, admin_pb2.ListProjectsRequest(team_id=team_id), auth,
                       settings, lambda a: _list(a.projects, project_out))


@router.post("/keys", status_code=201)
async def create_key(body: KeyIn, upstreams: UpstreamsDep, auth: AuthDep, settings: SettingsDep) -> Response:
    request = admin_pb2.CreateKeyRequest(
        project_id=body.project_id, name=body.name, expires_unix_ms=_unix_ms(body.expires_at),
        allowed_models=body.allowed_models, default_policy=body.default_policy, tags=body.tags,
        requests_per_minute=body.requests_per_minute, tokens_per_minute=body.tokens_per_minute)
    # The full key is in this answer only; NextModel keeps its hash.
    return await _call(upstreams.admin.CreateKey, request, auth, settings,
                       lambda created: {**key_out(created.key), "key": created.secret}, 201)


@router.get("/keys")
async def list_keys(upstreams: UpstreamsDep, auth: AuthDep, settings: SettingsDep, project_id: str) -> Response:
    return await _call(upstreams.admin.ListKeys, admin_pb2.ListKeysRequest(project_id=project_id), auth, settings,
                       lambda a: _list(a.keys, key_out))


@router.patch("/keys/{key_id}")
async def update_key(key_id: Id, body: KeyPatch, upstreams: UpstreamsDep, auth: AuthDep,
                     settings: SettingsDep) -> Response:
    request = admin_pb2.UpdateKeyRequest(key_id=key_id)
    for field in ("name", "default_policy", "requests_per_minute", "tokens_per_minute"):
        if getattr(body, field) is not None:
            setattr(request, field, getattr(body, field))
    if "expires_at" in body.model_fields_set:
        request.expires_unix_ms = _unix_ms(body.expires_at)
    if body.allowed_models is not None:
        request.set_allowed_models = True
        request.allowed_models.extend(body.allowed_models)
    if body.tags is not None:
        request.set_tags = True
        request.tags.update(body.tags)
    return await _call(upstreams.admin.UpdateKey, request, auth, settings, key_out)


@router.post("/keys/{key_id}/revoke")
@router.delete("/keys/{key_id}")
async def revoke_key(key_id: Id, upstreams: UpstreamsDep, auth: AuthDep, settings: SettingsDep) -> Response:
    return await _call(upstreams.admin.RevokeKey, admin_pb2.RevokeKeyRequest(key_id=key_id), auth, settings,
                       key_out)


@router.put("/budgets")
async def set_budget(body: BudgetIn, upstreams: UpstreamsDep, auth: AuthDep, settings: SettingsDep) -> Response:
    request = admin_pb2.SetBudgetRequest(scope=body.scope, scope_id=body.scope_id, period=body.period,
                                         limit_nano_usd=int(body.limit_usd * money.NANO_PER_USD), hard=body.hard)
    return await _call(upstreams.admin.SetBudget, request, auth, settings, budget_out)


@router.get("/budgets")
async def list_budgets(upstreams: UpstreamsDep, auth: AuthDep, settings: SettingsDep, scope: str = "",
                       scope_id: str = "") -> Response:
    return await _call(upstreams.admin.ListBudgets, admin_pb2.ListBudgetsRequest(scope=scope, scope_id=scope_id),
                       auth, settings, lambda a: _list(a.budgets, budget_out))


@router.delete("/budgets/{budget_id}")
async def delete_budget(budget_id: Id, upstreams: UpstreamsDep, auth: AuthDep, settings: SettingsDep) -> Response:
    return await _call(upstreams.admin.DeleteBudget, admin_pb2.DeleteBudgetRequest(budget_id=budget_id), auth,
                       settings, lambda _: {"object": "budget", "id": budget_id, "deleted": True})


@router.put("/projects/{project_id}/provider-keys/{provider}")
async def set_provider_key(project_id: Id, provider: ProviderId, body: ProviderKeyIn, upstreams: UpstreamsDep,
                           auth: AuthDep, settings: SettingsDep) -> Response:
    request = admin_pb2.SetProviderKeyRequest(project_id=project_id, provider=provider, api_key=body.api_key)
    return await _call(upstreams.admin.SetProviderKey, request, auth, settings, provider_key_out)


@router.delete("/projects/{project_id}/provider-keys/{provider}")
async def delete_provider_key(project_id: Id, provider: ProviderId, upstreams: UpstreamsDep, auth: AuthDep,
                              settings: SettingsDep) -> Response:
    request = admin_pb2.DeleteProviderKeyRequest(project_id=project_id, provider=provider)
    return await _call(upstreams.admin.DeleteProviderKey, request, auth, settings, provider_key_out)


@router.get("/projects/{project_id}/provider-keys")
async def list_provider_keys(project_id: Id, upstreams: UpstreamsDep, auth: AuthDep,
                             settings: SettingsDep) -> Response:
    return await _call(upstreams.admin.ListProviderKeys, admin_pb2.ListProviderKeysRequest(project_id=project_id),
                       auth, settings, lambda a: _list(a.keys, provider_key_out))




def dead_letter_out(letter: admin_pb2.DeadLetter) -> dict:
    return {"object": "dead_letter", "id": letter.id, "created_at": _iso(letter.created_unix_ms),
            "request_id": letter.request_id, "receipt_id": letter.receipt_id, "key_id": letter.key_id,
            "project_id": letter.project_id, "team_id": letter.team_id,
            "charged_usd": money.usd(letter.charged_cost_nano_usd), "charge_basis": letter.charge_basis,
            "reason": letter.reason, "payload_bytes": len(letter.payload)}


@router.get("/dead-letters")
async def list_dead_letters(upstreams: UpstreamsDep, auth: AuthDep, settings: SettingsDep,
                            limit: Annotated[int, Query(ge=1, le=1000)] = 100, after: Id | None = None) -> Response:
    """Settlements billing refused for good: kept with the reason, their charge counted."""
    request = admin_pb2.ListDeadLettersRequest(limit=limit, after_id=after or "")
    return await _call(upstreams.admin.ListDeadLetters, request, auth, settings,
                       lambda a: {**_list(a.dead_letters, dead_letter_out), "total": a.total})
