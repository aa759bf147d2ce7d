"""gRPC ↔ domain translation for billing. No business rules here."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict

import grpc

from nextmodel.billing.v1 import admin_pb2, admin_pb2_grpc, billing_pb2, billing_pb2_grpc
from nextmodel.common.v1 import common_pb2
from nextmodel_billing.budgets import resets_at_ms
from nextmodel_billing.domain import CacheSettings, PriceApplied, Receipt, Usage
from nextmodel_billing.service import AuthError, BillingService
from nextmodel_billing.store.base import BudgetRow, DeadLetter, KeyRow, ProjectRow, TeamRow, UsageFilter, UsageTotals
from nextmodel_common import enums
from nextmodel_common.errors import GatewayError
from nextmodel_common.interceptors import current_principal

log = logging.getLogger(__name__)




def receipt_to_proto(receipt: Receipt) -> billing_pb2.Receipt:
    fields = asdict(receipt)
    fields["price"] = billing_pb2.Price(**fields["price"])
    fields["attempts"] = [common_pb2.Attempt(**a) for a in receipt.attempts]
    fields["served_mode"] = enums.value(common_pb2.ServedMode, receipt.served_mode)
    fields["usage_source"] = enums.value(common_pb2.UsageSource, receipt.usage_source)
    return billing_pb2.Receipt(**fields, signed_json=receipt.signed_json())


def usage_from_proto(request: billing_pb2.SettleRequest) -> Usage:
    return Usage(
        request_id=request.request_id,
        receipt_id=request.receipt_id,
        key_id=request.key_id,
        project_id=request.project_id,
        team_id=request.team_id,
        requested_model=request.requested_model,
        served_model=request.served_model,
        provider=request.provider,
        # A settlement a router of the previous release wrote has only the names (billing.proto).
        served_mode=enums.name(common_pb2.ServedMode, request.served_mode) or request.legacy_served_mode,
        usage_source=enums.name(common_pb2.UsageSource, request.usage_source) or request.legacy_usage_source,
        prompt_tokens=request.prompt_tokens,
        completion_tokens=request.completion_tokens,
        cached_prompt_tokens=request.cached_prompt_tokens,
        price=PriceApplied(
            version=request.price.version,
            input_per_mtok_usd=request.price.input_per_mtok_usd,
            cached_input_per_mtok_usd=request.price.cached_input_per_mtok_usd,
            output_per_mtok_usd=request.price.output_per_mtok_usd,
        ),
        discount_bps=request.discount_bps,
        latency_ms=request.latency_ms,
        status=request.status or "ok",
        created_unix_ms=request.created_unix_ms,
        tags=dict(request.tags),
        replayed_receipt_id=request.replayed_receipt_id,
        credential_source=request.credential_source or "platform",
        route_reason=request.route_reason,
        reservation_id=request.reservation_id,
        attempts=tuple({"provider": a.provider, "model": a.model, "outcome": a.outcome, "latency_ms": a.latency_ms}
                       for a in request.attempts),
    )


class BillingServicer(billing_pb2_grpc.BillingServiceServicer):
    """The router's calls: authenticate, reserve, settle, release, provider keys."""

    def __init__(self, service: BillingService, auth_cache_ttl_seconds: int) -> None:
        self.service = service
        self.auth_cache_ttl_seconds = auth_cache_ttl_seconds

    async def AuthenticateKey(self, request, context):
        try:
            principal = await self.service.authenticate(request.api_key)
        except AuthError as refused:
            log.info("key refused", extra={"fields": {"reason": str(refused)}})
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "invalid API key")
        cache = principal.cache
        return billing_pb2.Principal(
            key_id=principal.key_id,
            key_prefix=principal.key_prefix,
            project_id=principal.project_id,
            team_id=principal.team_id,
            allowed_models=principal.allowed_models,
            default_policy=principal.default_policy,
            tags=principal.tags,
            cache_ttl_seconds=self.auth_cache_ttl_seconds,
            cache_enabled=cache.enabled,
            cache_ttl_entry_seconds=cache.ttl_seconds,
            cache_discount_bps=cache.discount_bps,
            cache_sampled=cache.cache_sampled,
            cache_namespace=principal.team_id if principal.cache_shared_in_team else principal.project_id,
            cache_shared_in_team=principal.cache_shared_in_team,
            has_budget=principal.has_budget,
            requests_per_minute=principal.requests_per_minute,
            tokens_per_minute=principal.tokens_per_minute,
            own_key_providers=principal.own_key_providers,
            budget_remaining_bps=principal.budget_remaining_bps,
            expires_unix_ms=principal.expires_unix_ms or 0,
        )

    async def Reserve(self, request, context):
        result = await self.service.reserve(request_id=request.request_id, key_id=request.key_id,
                                            project_id=request.project_id, team_id=request.team_id,
                                            amount_nano_usd=request.amount_nano_usd)
        if result is None:
            return billing_pb2.Reservation()
        reservation = billing_pb2.Reservation(reservation_id=result.reservation_id,
                                              soft_limit_exceeded=result.soft_exceeded)
        if result.remaining_nano_usd is not None:
            reservation.budget_remaining_nano_usd = result.remaining_nano_usd
        return reservation

    async def Release(self, request, context):
        await self.service.release(request.reservation_id, request.request_id)
        return billing_pb2.ReleaseResponse()

    async def Settle(self, request, context):
        settled = await self.service.settle(usage_from_proto(request), request.SerializeToString())
        if isinstance(settled, DeadLetter):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                f"settlement refused and kept as dead letter {settled.id}: {settled.reason}")
        return receipt_to_proto(settled)

    async def SettleBatch(self, request, context):
        settled = await self.service.settle_batch([usage_from_proto(s) for s in request.settlements],
                                                  [s.SerializeToString() for s in request.settlements])
        return billing_pb2.SettleBatchResponse(
            receipt_ids=["" if isinstance(s, DeadLetter) else s.id for s in settled],
            dead_letter_ids=[s.id if isinstance(s, DeadLetter) else "" for s in settled])

    async def GetReceipt(self, request, context):
        receipt = await self.service.receipt(request.receipt_id, request.project_id or None)
        if receipt is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no receipt {request.receipt_id}")
        return receipt_to_proto(receipt)

    async def ListReceipts(self, request, context):
        if not request.project_id:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "project_id is required")
        found = await self.service.receipts(request.project_id, limit=request.limit or 100, after_id=request.after_id)
        return billing_pb2.ListReceiptsResponse(receipts=[receipt_to_proto(r) for r in found])

    async def GetProviderKey(self, request, context):
        api_key = await self.service.provider_key(request.project_id, request.provider)
        return billing_pb2.ProviderKey(present=api_key is not None, api_key=api_key or "")


def team_to_proto(team: TeamRow) -> admin_pb2.Team:
    return admin_pb2.Team(**asdict(team))


def cache_to_proto(cache: CacheSettings) -> admin_pb2.CacheSettings:
    return admin_pb2.CacheSettings(enabled=cache.enabled, ttl_seconds=cache.ttl_seconds,
                                   discount_bps=cache.discount_bps, cache_sampled=cache.cache_sampled)


def cache_from_proto(cache: admin_pb2.CacheSettings) -> CacheSettings:
    return CacheSettings(enabled=cache.enabled, ttl_seconds=cache.ttl_seconds, discount_bps=cache.discount_bps,
                         cache_sampled=cache.cache_sampled)


def project_to_proto(project: ProjectRow) -> admin_pb2.Project:
    return admin_pb2.Project(id=project.id, team_id=project.team_id, name=project.name,
                             created_unix_ms=project.created_unix_ms, cache=cache_to_proto(project.cache))


def key_to_proto(key: KeyRow) -> admin_pb2.ApiKey:
    return admin_pb2.ApiKey(
        id=key.id, project_id=key.project_id, prefix=key.prefix, name=key.name, created_unix_ms=key.created_unix_ms,
        expires_unix_ms=key.expires_unix_ms or 0, revoked=key.revoked_unix_ms is not None,
        allowed_models=key.allowed_models, default_policy=key.default_policy, tags=key.tags,
        requests_per_minute=key.requests_per_minute, tokens_per_minute=key.tokens_per_minute,
    )


def budget_to_proto(budget: BudgetRow, now_ms: int) -> admin_pb2.Budget:
    return admin_pb2.Budget(
        id=budget.id, scope=budget.scope, scope_id=budget.scope_id, period=budget.period,
        limit_nano_usd=budget.limit_nano_usd, hard=budget.hard, period_key=budget.period_key,
        spent_nano_usd=budget.spent_nano_usd, reserved_nano_usd=budget.reserved_nano_usd,
        resets_unix_ms=resets_at_ms(budget.period, now_ms),
    )


class BillingAdminServicer(admin_pb2_grpc.BillingAdminServiceServicer):
    """Every method needs the admin key: the Authenticate interceptor checks it (server.py)."""

    def __init__(self, service: BillingService) -> None:
        self.service = service

    async def CreateTeam(self, request, context):
        return team_to_proto(await self.service.create_team(request.name, request.cache_shared))

    async def ListTeams(self, request, context):
        return admin_pb2.ListTeamsResponse(teams=[team_to_proto(t) for t in await self.service.store.list_teams()])

    async def CreateProject(self, request, context):
        cache = cache_from_proto(request.cache) if request.HasField("cache") else None
        return project_to_proto(await self.service.create_project(request.team_id, request.name, cache))

    async def UpdateProject(self, request, context):
        return project_to_proto(await self.service.update_project(
            request.project_id, request.name if request.HasField("name") else None,
            cache_from_proto(request.cache) if request.HasField("cache") else None))

    async def ListProjects(self, request, context):
        return admin_pb2.ListProjectsResponse(
            projects=[project_to_proto(p) for p in await self.service.store.list_projects(request.team_id)])

    async def CreateKey(self, request, context):
        key, secret = await self.service.create_key(
            request.project_id, request.name, expires_unix_ms=request.expires_unix_ms,
            allowed_models=tuple(request.allowed_models), default_policy=request.default_policy,
            tags=dict(request.tags), requests_per_minute=request.requests_per_minute,
            tokens_per_minute=request.tokens_per_minute)
        return admin_pb2.CreatedKey(key=key_to_proto(key), secret=secret)

    async def UpdateKey(self, request, context):
        changes: dict = {}
        for field in ("name", "expires_unix_ms", "default_policy", "requests_per_minute", "tokens_per_minute"):
            if request.HasField(field):
                changes[field] = getattr(request, field)
        if request.set_allowed_models:
            changes["allowed_models"] = tuple(request.allowed_models)
        if request.set_tags:
            changes["tags"] = dict(request.tags)
        return key_to_proto(await self.service.update_key(request.key_id, changes))

    async def ListKeys(self, request, context):
        return admin_pb2.ListKeysResponse(keys=[key_to_proto(k) for k in await self.service.store.list_keys(
            request.project_id)])

    async def RevokeKey(self, request, context):
        return key_to_proto(await self.service.revoke_key(request.key_id))

    async def SetBudget(self, request, context):
        budget = await self.service.set_budget(request.scope, request.scope_id, request.period,
                                               request.limit_nano_usd, request.hard)
        return budget_to_proto(budget, _now())

    async def ListBudgets(self, request, context):
        now = _now()
        found = await self.service.store.list_budgets(request.scope, request.scope_id, now_ms=now)
        return admin_pb2.ListBudgetsResponse(budgets=[budget_to_proto(b, now) for b in found])

    async def DeleteBudget(self, request, context):
        if not await self.service.store.delete_budget(request.budget_id):
            raise GatewayError(404, f"No budget {request.budget_id!r}.", param="budget_id", code="budget_not_found")
        return admin_pb2.DeleteBudgetResponse()

    async def SetProviderKey(self, request, context):
        updated = await self.service.set_provider_key(request.project_id, request.provider, request.api_key)
        return admin_pb2.ProviderKeyInfo(project_id=request.project_id, provider=request.provider, present=True,
                                         updated_unix_ms=updated)

    async def DeleteProviderKey(self, request, context):
        deleted = await self.service.store.delete_provider_key(request.project_id, request.provider)
        if not deleted:
            raise GatewayError(404, f"No {request.provider} key stored for project {request.project_id!r}.",
                               param="provider", code="provider_key_not_found")
        return admin_pb2.ProviderKeyInfo(project_id=request.project_id, provider=request.provider, present=False)

    async def ListDeadLetters(self, request, context):
        letters, total = await self.service.dead_letters(limit=request.limit or 100, after_id=request.after_id)
        return admin_pb2.ListDeadLettersResponse(dead_letters=[dead_letter_to_proto(d) for d in letters], total=total)

    async def ListProviderKeys(self, request, context):
        return admin_pb2.ListProviderKeysResponse(keys=[
            admin_pb2.ProviderKeyInfo(project_id=request.project_id, provider=provider, present=True,
                                      updated_unix_ms=updated)
            for provider, updated in await self.service.store.list_provider_keys(request.project_id)])


def dead_letter_to_proto(letter: DeadLetter) -> admin_pb2.DeadLetter:
    return admin_pb2.DeadLetter(
        id=letter.id, created_unix_ms=letter.created_unix_ms, request_id=letter.request_id,
        receipt_id=letter.receipt_id, key_id=letter.key_id, project_id=letter.project_id, team_id=letter.team_id,
        charged_cost_nano_usd=letter.charged_cost_nano_usd, charge_basis=letter.charge_basis, reason=letter.reason,
        payload=letter.payload)


def usage_filter(query: admin_pb2.UsageQuery) -> UsageFilter:
    return UsageFilter(start_unix_ms=query.start_unix_ms, end_unix_ms=query.end_unix_ms,
                       project_id=query.project_id, team_id=query.team_id, key_id=query.key_id, model=query.model,
                       provider=query.provider, served_mode=query.served_mode, tags=dict(query.tags))


def _group(totals: UsageTotals) -> admin_pb2.UsageGroup:
    return admin_pb2.UsageGroup(**asdict(totals))


class UsageServicer(admin_pb2_grpc.UsageServiceServicer):
    def __init__(self, service: BillingService, export_batch_rows: int) -> None:
        self.service = service
        self.export_batch_rows = export_batch_rows

    # The caller (admin or one project's key) is resolved by the Authenticate interceptor (server.py).

    async def GetUsage(self, request, context):
        groups, total = await self.service.usage(current_principal.get(), request.group_by, usage_filter(request))
        return admin_pb2.UsageSummary(groups=[_group(g) for g in groups], total=_group(total))

    async def ExportUsage(self, request, context):
        chunks = await self.service.export(current_principal.get(), usage_filter(request), request.format or "csv",
                                           self.export_batch_rows)
        async for data in chunks:
            yield admin_pb2.ExportChunk(data=data)

    async def WhoAmI(self, request, context):
        caller = current_principal.get()
        return admin_pb2.Caller(admin=caller.admin, project_id=caller.project_id, team_id=caller.team_id)

    async def GetReceipt(self, request, context):
        caller = current_principal.get()
        receipt = await self.service.receipt(request.receipt_id, None if caller.admin else caller.project_id)
        if receipt is None:
            raise GatewayError(404, f"No receipt {request.receipt_id!r} in this project.", param="receipt_id",
                               code="receipt_not_found")
        return receipt_to_proto(receipt)


def _now() -> int:
    return int(time.time() * 1000)

