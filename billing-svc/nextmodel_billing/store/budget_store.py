"""Budgets and reservations in SQL: the counters that keep a hard budget hard.

Reserve and settle change a budget's counter row only through conditional UPDATEs, which lock
the row they change, so concurrent requests on any number of billing replicas cannot together
pass a hard limit. Mixed into SqlBillingStore (which brings the engine and `_write`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from ulid import ULID

from nextmodel_billing.budgets import period_key
from nextmodel_billing.store.base import BudgetExceeded, BudgetRow, ReservationResult
from nextmodel_billing.store.counters import MissingCounter as _MissingCounter
from nextmodel_billing.store.counters import applies as _applies
from nextmodel_billing.store.schema import budget_counters, budgets, reservation_lines, reservations


def _budget(row, counter=None, key: str = "") -> BudgetRow:
    return BudgetRow(
        id=row.id, scope=row.scope, scope_id=row.scope_id, period=row.period, limit_nano_usd=row.limit_nano_usd,
        hard=row.hard, period_key=key,
        spent_nano_usd=counter.spent_nano_usd if counter else 0,
        reserved_nano_usd=counter.reserved_nano_usd if counter else 0,
    )


class BudgetStore:
    engine: AsyncEngine
    _write: Callable[[], AbstractAsyncContextManager[AsyncConnection]]
    _insert: Callable[..., Awaitable[bool]]

    # -- budgets ----------------------------------------------------------------------

    async def set_budget(self, budget: BudgetRow, *, now_ms: int) -> BudgetRow:
        async with self._write() as conn:
            found = (await conn.execute(select(budgets.c.id).where(
                budgets.c.scope == budget.scope, budgets.c.scope_id == budget.scope_id,
                budgets.c.period == budget.period))).scalar()
            if found:
                await conn.execute(budgets.update().where(budgets.c.id == found)
                                   .values(limit_nano_usd=budget.limit_nano_usd, hard=budget.hard))
            else:
                found = budget.id
                await conn.execute(budgets.insert().values(
                    id=found, scope=budget.scope, scope_id=budget.scope_id, period=budget.period,
                    limit_nano_usd=budget.limit_nano_usd, hard=budget.hard, created_unix_ms=now_ms))
        return next(b for b in await self.list_budgets(now_ms=now_ms) if b.id == found)

    async def list_budgets(self, scope: str = "", scope_id: str = "", *, now_ms: int) -> list[BudgetRow]:
        query = select(budgets).order_by(budgets.c.created_unix_ms, budgets.c.id)
        if scope:
            query = query.where(budgets.c.scope == scope)
        if scope_id:
            query = query.where(budgets.c.scope_id == scope_id)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
            result = []
            for row in rows:
                key = period_key(row.period, now_ms)
                counter = (await conn.execute(select(budget_counters).where(
                    budget_counters.c.budget_id == row.id, budget_counters.c.period_key == key))).first()
                result.append(_budget(row, counter, key))
        return result

    async def delete_budget(self, budget_id: str) -> bool:
        async with self._write() as conn:
            await conn.execute(budget_counters.delete().where(budget_counters.c.budget_id == budget_id))
            deleted = await conn.execute(budgets.delete().where(budgets.c.id == budget_id))
        return deleted.rowcount > 0

    async def _ensure_counter(self, budget_id: str, key: str) -> None:
        await self._insert(budget_counters, {"budget_id": budget_id, "period_key": key, "spent_nano_usd": 0,
                                             "reserved_nano_usd": 0})

    async def _retrying_missing_counters(self, work):
        """Run a transaction; when it needs a counter row that does not exist yet, create it and rerun."""
        for attempt in range(8):
            try:
                return await work()
            except _MissingCounter as missing:
                await self._ensure_counter(missing.budget_id, missing.key)
            except IntegrityError:
                if attempt >= 2:
                    raise  # not a race on a new counter row: a real conflict
        raise RuntimeError("budget counters kept changing under the transaction")

    async def reserve(self, *, request_id: str, key_id: str, project_id: str, team_id: str, amount_nano_usd: int,
                      now_ms: int, ttl_ms: int) -> ReservationResult | None:
        async with self.engine.connect() as conn:
            applicable = [b for b in (await conn.execute(select(budgets))).all()
                          if _applies(b, key_id, project_id, team_id)]
        if not applicable:
            return None
        applicable.sort(key=lambda b: b.id)  # one lock order for every transaction: no deadlocks
        reservation_id = f"resv_{ULID()}"

        async def transaction() -> ReservationResult:
            remaining: int | None = None
            soft_exceeded = False
            lines: list[dict] = []
            async with self._write() as conn:
                for budget in applicable:
                    key = period_key(budget.period, now_ms)
                    row = and_(budget_counters.c.budget_id == budget.id, budget_counters.c.period_key == key)
                    update = budget_counters.update().where(row).values(
                        reserved_nano_usd=budget_counters.c.reserved_nano_usd + amount_nano_usd)
                    if budget.hard:
                        update = update.where(budget_counters.c.spent_nano_usd + budget_counters.c.reserved_nano_usd
                                              + amount_nano_usd <= budget.limit_nano_usd)
                    changed = (await conn.execute(update)).rowcount
                    counter = (await conn.execute(select(budget_counters).where(row))).first()
                    if counter is None:
                        raise _MissingCounter(budget.id, key)
                    if not changed:
                        available = budget.limit_nano_usd - counter.spent_nano_usd - counter.reserved_nano_usd
                        raise BudgetExceeded(_budget(budget, counter, key), available)
                    left = budget.limit_nano_usd - counter.spent_nano_usd - counter.reserved_nano_usd
                    soft_exceeded |= not budget.hard and left < 0
                    remaining = left if remaining is None else min(remaining, left)
                    lines.append({"reservation_id": reservation_id, "budget_id": budget.id, "period_key": key,
                                  "amount_nano_usd": amount_nano_usd})
                await conn.execute(reservations.insert().values(
                    id=reservation_id, request_id=request_id, status="held", created_unix_ms=now_ms,
                    expires_unix_ms=now_ms + ttl_ms))
                await conn.execute(reservation_lines.insert(), lines)
            return ReservationResult(reservation_id, remaining, soft_exceeded)

        return await self._retrying_missing_counters(transaction)

    async def _release_lines(self, conn: AsyncConnection, reservation_id: str, status: str) -> bool:
        """Mark a held or expired reservation settled or released and take back what it counted:
        a held one's amounts from `reserved`, an expired one's from `spent`. False if neither."""
        before = (await conn.execute(select(reservations.c.status).where(
            reservations.c.id == reservation_id))).scalar()
        if before not in ("held", "expired"):
            return False
        changed = await conn.execute(reservations.update().where(
            reservations.c.id == reservation_id, reservations.c.status == before).values(status=status))
        if not changed.rowcount:
            return False
        column = budget_counters.c.reserved_nano_usd if before == "held" else budget_counters.c.spent_nano_usd
        lines = (await conn.execute(select(reservation_lines).where(
            reservation_lines.c.reservation_id == reservation_id).order_by(reservation_lines.c.budget_id))).all()
        for line in lines:
            await conn.execute(budget_counters.update().where(
                budget_counters.c.budget_id == line.budget_id, budget_counters.c.period_key == line.period_key,
            ).values({column: column - line.amount_nano_usd}))
        return True

    async def release(self, *, reservation_id: str, request_id: str) -> bool:
        async with self._write() as conn:
            if not reservation_id:
                reservation_id = (await conn.execute(select(reservations.c.id).where(
                    reservations.c.request_id == request_id))).scalar() or ""
            return await self._release_lines(conn, reservation_id, "released") if reservation_id else False

    async def expire_reservations(self, *, now_ms: int) -> int:
        """Held reservations past their lifetime count as spent at their worst case.

        Their request may still be in flight or its settlement in a router's outbox, so the room
        is not given back: the settlement, when it arrives, takes the worst case off and adds the
        real cost (`_release_lines`). A hard budget therefore stays hard while billing is slow.
        """
        async with self.engine.connect() as conn:
            stale = (await conn.execute(select(reservations.c.id).where(
                reservations.c.status == "held", reservations.c.expires_unix_ms < now_ms))).scalars().all()
        expired = 0
        for reservation_id in stale:
            async with self._write() as conn:
                changed = await conn.execute(reservations.update().where(
                    reservations.c.id == reservation_id, reservations.c.status == "held").values(status="expired"))
                if not changed.rowcount:
                    continue
                expired += 1
                for line in (await conn.execute(select(reservation_lines).where(
                        reservation_lines.c.reservation_id == reservation_id)
                        .order_by(reservation_lines.c.budget_id))).all():
                    await conn.execute(budget_counters.update().where(
                        budget_counters.c.budget_id == line.budget_id, budget_counters.c.period_key == line.period_key,
                    ).values(reserved_nano_usd=budget_counters.c.reserved_nano_usd - line.amount_nano_usd,
                             spent_nano_usd=budget_counters.c.spent_nano_usd + line.amount_nano_usd))
        return expired
