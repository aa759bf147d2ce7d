"""GET /v1/usage (spend summaries) and GET /v1/usage/export (CSV or JSONL, one row per receipt).

A project key sees its own project; the admin key sees every project.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

import grpc
import orjson
from fastapi import APIRouter, Query
from fastapi.responses import Response, StreamingResponse

from nextmodel.billing.v1 import admin_pb2
from nextmodel_common import money
from nextmodel_common.errors import GatewayError
from nextmodel_edge.deps import AuthDep, SettingsDep, UpstreamsDep

router = APIRouter()

MONEY_FIELDS = ("list_cost", "discount", "charged_cost")


LATEST_MS = 253_402_300_799_000  # 9999-12-31T23:59:59Z


def parse_time(value: str | None, param: str) -> int:
    """Unix seconds, or an ISO-8601 date or date-time (UTC when no zone is given), to unix ms."""
    if not value:
        return 0
    try:
        if value.isdigit():
            unix_ms = int(value) * 1000
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            unix_ms = int(moment.timestamp() * 1000)
        if not 0 <= unix_ms <= LATEST_MS:
            raise ValueError("out of range")
        return unix_ms
    except (ValueError, OverflowError, OSError):
        raise GatewayError(400, f"'{param}' must be unix seconds or an ISO-8601 date/time before year 10000.",
                           param=param,
                           code="invalid_value") from None


def parse_tag_filters(values: list[str]) -> dict[str, str]:
    tags = {}
    for value in values:
        name, sep, tag_value = value.partition(":")
        if not sep or not name:
            raise GatewayError(400, "'tag' filters look like tag=name:value.", param="tag", code="invalid_value")
        tags[name] = tag_value
    return tags


def usage_query(*, group_by: str = "", start: str | None, end: str | None, project_id: str, team_id: str,
                key_id: str, model: str, provider: str, served_mode: str, tag: list[str],
                fmt: str = "") -> admin_pb2.UsageQuery:
    return admin_pb2.UsageQuery(
        group_by=group_by, start_unix_ms=parse_time(start, "start"), end_unix_ms=parse_time(end, "end"),
        project_id=project_id, team_id=team_id, key_id=key_id, model=model, provider=provider,
        served_mode=served_mode, tags=parse_tag_filters(tag), format=fmt)


def group_object(group: admin_pb2.UsageGroup, group_by: str, currency: str) -> dict:
    name = group.group
    if group_by == "day" and name.isdigit():
        name = datetime.fromtimestamp(int(name) * 86_400, UTC).strftime("%Y-%m-%d")
    body = {"group": name, "requests": group.requests, "prompt_tokens": group.prompt_tokens,
            "completion_tokens": group.completion_tokens, "cached_prompt_tokens": group.cached_prompt_tokens}
    for field in MONEY_FIELDS:
        nano = getattr(group, f"{field}_nano_usd")
        body[f"{field}_nano_usd"] = nano
        body[f"{field}_usd"] = money.usd(nano)
        if currency == "SAR":
            body[f"{field}_sar"] = money.sar(nano)
    return body



@router.get("/v1/usage")
async def get_usage(
    upstreams: UpstreamsDep, auth: AuthDep, settings: SettingsDep,
    group_by: str = "model", start: str | None = None, end: str | None = None, project_id: str = "",
    team_id: str = "", key_id: str = "", model: str = "", provider: str = "", served_mode: str = "",
    tag: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI reads the default, never mutates it
    currency: str = Query("USD", pattern="^(USD|SAR)$"),
) -> Response:
    query = usage_query(group_by=group_by, start=start, end=end, project_id=project_id, team_id=team_id,
                        key_id=key_id, model=model, provider=provider, served_mode=served_mode, tag=tag)
    summary = await upstreams.usage.GetUsage(query, metadata=auth, timeout=settings.internal_timeout * 6)
    return Response(orjson.dumps({
        "object": "nextmodel.usage", "group_by": group_by, "currency": currency,
        "start_unix_ms": query.start_unix_ms or None, "end_unix_ms": query.end_unix_ms or None,
        "data": [group_object(g, group_by, currency) for g in summary.groups],
        "total": group_object(summary.total, "", currency),
    }), media_type="application/json")


@router.get("/v1/usage/export")
async def export_usage(
    upstreams: UpstreamsDep, auth: AuthDep, settings: SettingsDep,
    format: str = Query("csv", pattern="^(csv|jsonl)$"), start: str | None = None, end: str | None = None,
    project_id: str = "", team_id: str = "", key_id: str = "", model: str = "", provider: str = "",
    served_mode: str = "", tag: Annotated[list[str], Query()] = [],  # noqa: B006
) -> Response:
    query = usage_query(start=start, end=end, project_id=project_id, team_id=team_id, key_id=key_id,
                        model=model, provider=provider, served_mode=served_mode, tag=tag, fmt=format)
    call = upstreams.usage.ExportUsage(query, metadata=auth, timeout=3600)
    first = await call.read()

    async def rows() -> AsyncIterator[bytes]:
        try:
            chunk = first
            while chunk is not grpc.aio.EOF:
                yield chunk.data
                chunk = await call.read()
        finally:
            call.cancel()

    media = "text/csv; charset=utf-8" if format == "csv" else "application/x-ndjson"
    filename = f"nextmodel-usage.{format}"
    return StreamingResponse(rows(), media_type=media,
                             headers={"content-disposition": f'attachment; filename="{filename}"'})
