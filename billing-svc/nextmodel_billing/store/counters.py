"""What every transaction that changes budget counters shares: which budgets a charge applies
to, and the signal that a counter row for the period must be created first."""

from __future__ import annotations


def applies(budget, key_id: str, project_id: str, team_id: str) -> bool:
    return (budget.scope, budget.scope_id) in (("key", key_id), ("project", project_id), ("team", team_id))


class MissingCounter(Exception):
    """A budget has no counter row for the period yet: create it, then run the transaction again."""

    def __init__(self, budget_id: str, key: str) -> None:
        self.budget_id = budget_id
        self.key = key
