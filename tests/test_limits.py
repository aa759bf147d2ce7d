"""Every column that stores a value a client chose is at least as wide as that value's declared
limit (nextmodel_common.limits), so whatever the edge admits can be stored on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import String

from nextmodel_billing.store.schema import metadata as billing
from nextmodel_catalog.store.schema import metadata as catalog
from nextmodel_common import limits

# (table, column) -> the longest value that may reach it.
STORED = {
    ("billing_teams", "id"): limits.ID.max_length,
    ("billing_teams", "name"): limits.NAME.max_length,
    ("billing_projects", "id"): limits.ID.max_length,
    ("billing_projects", "team_id"): limits.ID.max_length,
    ("billing_projects", "name"): limits.NAME.max_length,
    ("billing_api_keys", "id"): limits.ID.max_length,
    ("billing_api_keys", "project_id"): limits.ID.max_length,
    ("billing_api_keys", "name"): limits.NAME.max_length,
    ("billing_api_keys", "default_policy"): limits.POLICY_NAME.max_length,
    ("billing_receipts", "id"): limits.RECEIPT_ID.max_length,
    ("billing_receipts", "request_id"): limits.REQUEST_ID.max_length,
    ("billing_receipts", "key_id"): limits.ID.max_length,
    ("billing_receipts", "project_id"): limits.ID.max_length,
    ("billing_receipts", "team_id"): limits.ID.max_length,
    ("billing_receipts", "requested_model"): max(limits.MODEL.max_length,
                                                 len("nextmodel/") + limits.POLICY_NAME.max_length),
    ("billing_receipts", "served_model"): limits.CATALOG_MODEL_ID.max_length,
    ("billing_receipts", "provider"): limits.PROVIDER_ID.max_length,
    ("billing_receipts", "replayed_receipt_id"): limits.RECEIPT_ID.max_length,
    ("billing_receipt_tags", "receipt_id"): limits.RECEIPT_ID.max_length,
    ("billing_receipt_tags", "name"): limits.TAG_NAME.max_length,
    ("billing_receipt_tags", "value"): limits.TAG_VALUE.max_length,
    ("billing_budgets", "scope_id"): limits.ID.max_length,
    ("billing_reservations", "request_id"): limits.REQUEST_ID.max_length,
    ("billing_provider_keys", "project_id"): limits.ID.max_length,
    ("billing_provider_keys", "provider"): limits.PROVIDER_ID.max_length,
    ("catalog_providers", "id"): limits.PROVIDER_ID.max_length,
    ("catalog_models", "id"): limits.CATALOG_MODEL_ID.max_length,
    ("catalog_prices", "model_id"): limits.CATALOG_MODEL_ID.max_length,
    ("catalog_policies", "name"): limits.POLICY_NAME.max_length,
}


@pytest.mark.parametrize("table, column", sorted(STORED), ids=[f"{t}.{c}" for t, c in sorted(STORED)])
def test_a_column_holds_the_longest_value_its_limit_admits(table, column) -> None:
    tables = {**billing.tables, **catalog.tables}
    assert table in tables, f"{table} is gone: update STORED"
    kind = tables[table].columns[column].type
    if isinstance(kind, String) and kind.length is not None:
        assert kind.length >= STORED[table, column], (
            f"{table}.{column} is varchar({kind.length}) but admits values of {STORED[table, column]} characters")


def test_every_bounded_string_column_is_covered() -> None:
    """A new varchar column must say which limit fills it (or be listed as internal)."""
    internal = {("billing_api_keys", "key_hash"), ("billing_api_keys", "prefix"), ("billing_receipts", "served_mode"),
                ("billing_receipts", "usage_source"), ("billing_receipts", "status"),
                ("billing_receipts", "credential_source"), ("billing_receipts", "price_version"),
                ("billing_receipts", "input_per_mtok_usd"), ("billing_receipts", "cached_input_per_mtok_usd"),
                ("billing_receipts", "output_per_mtok_usd"), ("billing_receipts", "signature"),
                ("billing_budgets", "id"), ("billing_budgets", "scope"), ("billing_budgets", "period"),
                ("billing_budget_counters", "budget_id"), ("billing_budget_counters", "period_key"),
                ("billing_reservations", "id"), ("billing_reservations", "status"),
                ("billing_reservation_lines", "reservation_id"), ("billing_reservation_lines", "budget_id"),
                ("billing_reservation_lines", "period_key"), ("billing_dead_letters", "id"),
                ("billing_dead_letters", "request_key"), ("billing_dead_letters", "charge_basis"),
                ("catalog_prices", "version"), ("catalog_meta", "key")}
    bounded = {(table.name, column.name) for table in [*billing.tables.values(), *catalog.tables.values()]
               for column in table.columns if isinstance(column.type, String) and column.type.length}
    assert bounded - internal - set(STORED) == set()


def test_a_limit_names_the_rule_not_the_value() -> None:
    problem = limits.TAG_VALUE.problem("secret" * 100)
    assert problem == "a tag value must be at most 256 characters (got 600)"
    assert limits.TAG_NAME.problem("a\x00b") == "a tag name must not contain control characters"
    assert limits.TAG_VALUE.problem("قيمة عربية") is None, "Arabic text is as welcome as English"
