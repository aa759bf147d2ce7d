"""Dead letters: settlements billing refused for good, kept instead of blocking the others.

A dead letter is written in one transaction with its charge: the cost counts against every
budget that applies (as a receipt's would) and the request's reservation is settled, so a refused
settlement neither loses money nor leaves room in a hard budget. Recorded once per request id.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from nextmodel_billing.budgets import period_key
from nextmodel_billing.store.base import DeadLetter
from nextmodel_billing.store.counters import MissingCounter, applies
from nextmodel_billing.store.schema import budget_counters, budgets, dead_letters, reservation_lines


class DeadLetterStore:
    """Mixed into SqlBillingStore, which brings these:"""

    engine: AsyncEngine
    _write: Callable[[], AbstractAsyncContextManager[AsyncConnection]]
    _release_lines: Callable[[AsyncConnection, str, str], Awaitable[bool]]
    _retrying_missing_counters: Callable[[Callable[[], Awaitable[DeadLetter]]], Awaitable[DeadLetter]]

    async def dead_letter(self, letter: DeadLetter) -> DeadLetter:
        """Keep `letter` and charge it; a request already kept returns the first record."""

        async def transaction() -> DeadLetter:
            async with self._write() as conn:
                found = (await conn.execute(select(dead_letters).where(
                    dead_letters.c.request_key == letter.request_key))).first()
                if found is not None:
                    return _letter(found._mapping)
                kept = letter
                if letter.charge_basis == "reserved":
                    worst = (await conn.execute(select(func.max(reservation_lines.c.amount_nano_usd)).where(
                        reservation_lines.c.reservation_id == letter.reservation_id))).scalar()
                    kept = _with_charge(letter, worst or 0, "reserved" if worst else "none")
                row = {column.name: getattr(kept, column.name) for column in dead_letters.columns}
                await conn.execute(dead_letters.insert().values(**row))
                charge = kept.charged_cost_nano_usd
                for budget in (await conn.execute(select(budgets))).all() if charge else ():
                    if applies(budget, kept.key_id, kept.project_id, kept.team_id):
                        key = period_key(budget.period, kept.created_unix_ms)
                        changed = await conn.execute(budget_counters.update().where(
                            budget_counters.c.budget_id == budget.id, budget_counters.c.period_key == key,
                        ).values(spent_nano_usd=budget_counters.c.spent_nano_usd + charge))
                        if not changed.rowcount:
                            raise MissingCounter(budget.id, key)
                if kept.reservation_id:
                    await self._release_lines(conn, kept.reservation_id, "settled")
                return kept

        return await self._retrying_missing_counters(transaction)

    async def list_dead_letters(self, *, limit: int, after_id: str = "") -> list[DeadLetter]:
        query = select(dead_letters)
        if after_id:
            query = query.where(dead_letters.c.id > after_id)
        async with self.engine.connect() as conn:
            return [_letter(row._mapping) for row in await conn.execute(query.order_by(dead_letters.c.id).limit(limit))]

    async def count_dead_letters(self) -> int:
        async with self.engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(dead_letters))).scalar() or 0)


def _letter(mapping) -> DeadLetter:
    data = dict(mapping)
    data["payload"] = bytes(data["payload"])
    return DeadLetter(**data)


def _with_charge(letter: DeadLetter, amount: int, basis: str) -> DeadLetter:
    fields = {name: getattr(letter, name) for name in DeadLetter.__dataclass_fields__}
    return DeadLetter(**{**fields, "charged_cost_nano_usd": amount, "charge_basis": basis})
