"""Budget periods: which period a moment falls in, and when it resets (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

PERIODS = ("daily", "weekly", "monthly", "total")
SCOPES = ("key", "project", "team")


def period_key(period: str, now_ms: int) -> str:
    moment = datetime.fromtimestamp(now_ms / 1000, UTC)
    if period == "daily":
        return moment.strftime("%Y-%m-%d")
    if period == "weekly":
        year, week, _ = moment.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "monthly":
        return moment.strftime("%Y-%m")
    if period == "total":
        return "total"
    raise ValueError(f"unknown budget period {period!r}")


def resets_at_ms(period: str, now_ms: int) -> int:
    """When the current period ends (unix ms); 0 for a total budget, which never resets."""
    moment = datetime.fromtimestamp(now_ms / 1000, UTC)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "daily":
        end = day + timedelta(days=1)
    elif period == "weekly":
        end = day + timedelta(days=7 - day.weekday())
    elif period == "monthly":
        end = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    else:
        return 0
    return int(end.timestamp() * 1000)
