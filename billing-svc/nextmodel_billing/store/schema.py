"""The billing tables. Alembic migrations (store/migrations) create and evolve them.

Every table is prefixed `billing_` so billing and catalog can share one database.
Money columns are integer nano-USD. A column that holds a value a client chose takes its length
from `nextmodel_common.limits`, so whatever the edge admits fits (tests/test_limits.py checks).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from nextmodel_common import limits

metadata = MetaData()

teams = Table(
    "billing_teams",
    metadata,
    Column("id", String(limits.ID.max_length), primary_key=True),
    Column("name", String(limits.NAME.max_length), nullable=False),
    Column("created_unix_ms", BigInteger, nullable=False),
    Column("cache_shared", Boolean, nullable=False, server_default="0"),
)

projects = Table(
    "billing_projects",
    metadata,
    Column("id", String(limits.ID.max_length), primary_key=True),
    Column("team_id", String(limits.ID.max_length), ForeignKey("billing_teams.id"), nullable=False, index=True),
    Column("name", String(limits.NAME.max_length), nullable=False),
    Column("created_unix_ms", BigInteger, nullable=False),
    Column("cache_enabled", Boolean, nullable=False, server_default="1"),
    Column("cache_ttl_seconds", Integer, nullable=False, server_default="86400"),
    Column("cache_discount_bps", Integer, nullable=False, server_default="5000"),
    Column("cache_sampled", Boolean, nullable=False, server_default="0"),
)

api_keys = Table(
    "billing_api_keys",
    metadata,
    Column("id", String(limits.ID.max_length), primary_key=True),
    Column("project_id", String(limits.ID.max_length), ForeignKey("billing_projects.id"), nullable=False,
           index=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("name", String(limits.NAME.max_length), nullable=False),
    Column("created_unix_ms", BigInteger, nullable=False),
    Column("expires_unix_ms", BigInteger),
    Column("revoked_unix_ms", BigInteger),
    Column("allowed_models", Text, nullable=False, server_default="[]"),
    Column("default_policy", String(limits.POLICY_NAME.max_length), nullable=False, server_default=""),
    Column("tags", Text, nullable=False, server_default="{}"),
    Column("requests_per_minute", Integer, nullable=False, server_default="0"),
    Column("tokens_per_minute", BigInteger, nullable=False, server_default="0"),
)

receipts = Table(
    "billing_receipts",
    metadata,
    Column("id", String(limits.RECEIPT_ID.max_length), primary_key=True),
    Column("request_id", String(limits.REQUEST_ID.max_length), nullable=False, unique=True),
    Column("created_unix_ms", BigInteger, nullable=False),
    Column("key_id", String(limits.ID.max_length), nullable=False),
    Column("project_id", String(limits.ID.max_length), nullable=False),
    Column("team_id", String(limits.ID.max_length), nullable=False),
    Column("requested_model", String(limits.REQUESTED_MODEL_STORED), nullable=False),
    Column("served_model", String(limits.CATALOG_MODEL_ID.max_length), nullable=False),
    Column("provider", String(limits.PROVIDER_ID.max_length), nullable=False),
    Column("served_mode", String(16), nullable=False),
    Column("usage_source", String(16), nullable=False),
    Column("prompt_tokens", BigInteger, nullable=False),
    Column("completion_tokens", BigInteger, nullable=False),
    Column("cached_prompt_tokens", BigInteger, nullable=False),
    Column("price_version", String(64), nullable=False),
    Column("input_per_mtok_usd", String(32), nullable=False),
    Column("cached_input_per_mtok_usd", String(32), nullable=False),
    Column("output_per_mtok_usd", String(32), nullable=False),
    Column("list_cost_nano_usd", BigInteger, nullable=False),
    Column("discount_nano_usd", BigInteger, nullable=False),
    Column("charged_cost_nano_usd", BigInteger, nullable=False),
    Column("latency_ms", Integer, nullable=False),
    Column("status", String(32), nullable=False),
    Column("tags", Text, nullable=False),
    Column("replayed_receipt_id", String(limits.RECEIPT_ID.max_length), nullable=False),
    Column("credential_source", String(16), nullable=False),
    Column("route_reason", Text, nullable=False),
    Column("attempts", Text, nullable=False, server_default="[]"),
    Column("signature", String(64), nullable=False),
    Index("ix_billing_receipts_project_created", "project_id", "created_unix_ms"),
    Index("ix_billing_receipts_created", "created_unix_ms"),
)

# One row per receipt tag, so usage can be filtered and grouped by tag on any database.
receipt_tags = Table(
    "billing_receipt_tags",
    metadata,
    Column("receipt_id", String(limits.RECEIPT_ID.max_length), ForeignKey("billing_receipts.id"), primary_key=True),
    Column("name", String(limits.TAG_NAME.max_length), primary_key=True),
    Column("value", String(limits.TAG_VALUE.max_length), nullable=False),
    Index("ix_billing_receipt_tags_name_value", "name", "value"),
)

budgets = Table(
    "billing_budgets",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("scope", String(16), nullable=False),
    Column("scope_id", String(limits.ID.max_length), nullable=False),
    Column("period", String(16), nullable=False),
    Column("limit_nano_usd", BigInteger, nullable=False),
    Column("hard", Boolean, nullable=False),
    Column("created_unix_ms", BigInteger, nullable=False),
    UniqueConstraint("scope", "scope_id", "period", name="uq_billing_budgets_scope_period"),
)

# The running total of one budget in one period. Reserve and settle change it with
# conditional UPDATEs, which serialize on the row: that is what keeps concurrent
# requests, on any number of billing replicas, from spending past a hard limit.
budget_counters = Table(
    "billing_budget_counters",
    metadata,
    Column("budget_id", String(40), ForeignKey("billing_budgets.id"), primary_key=True),
    Column("period_key", String(16), primary_key=True),
    Column("spent_nano_usd", BigInteger, nullable=False),
    Column("reserved_nano_usd", BigInteger, nullable=False),
)

reservations = Table(
    "billing_reservations",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("request_id", String(limits.REQUEST_ID.max_length), nullable=False, unique=True),
    # held | settled | released | expired. An expired reservation (its request never settled in
    # time) counts as spent at its worst case until a settlement arrives and corrects it.
    Column("status", String(16), nullable=False),
    Column("created_unix_ms", BigInteger, nullable=False),
    Column("expires_unix_ms", BigInteger, nullable=False),
    Index("ix_billing_reservations_status_expires", "status", "expires_unix_ms"),
)

reservation_lines = Table(
    "billing_reservation_lines",
    metadata,
    Column("reservation_id", String(40), ForeignKey("billing_reservations.id"), primary_key=True),
    Column("budget_id", String(40), primary_key=True),
    Column("period_key", String(16), nullable=False),
    Column("amount_nano_usd", BigInteger, nullable=False),
)

provider_keys = Table(
    "billing_provider_keys",
    metadata,
    Column("project_id", String(limits.ID.max_length), ForeignKey("billing_projects.id"), primary_key=True),
    Column("provider", String(limits.PROVIDER_ID.max_length), primary_key=True),
    Column("ciphertext", Text, nullable=False),
    Column("updated_unix_ms", BigInteger, nullable=False),
)

# Settlements billing refused for good (a value no column can hold, a price it cannot compute):
# kept whole for an operator, with the reason, instead of blocking the settlements behind them.
# Their charge still counts against every budget that applies. The columns that repeat the
# settlement's ids are Text: the refused value may be any of them. `request_key` is the SHA-256
# of the request id (or of the payload, without one), so a redelivery is recorded once.
dead_letters = Table(
    "billing_dead_letters",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("request_key", String(64), nullable=False, unique=True),
    Column("created_unix_ms", BigInteger, nullable=False),
    Column("request_id", Text, nullable=False),
    Column("receipt_id", Text, nullable=False),
    Column("key_id", Text, nullable=False),
    Column("project_id", Text, nullable=False),
    Column("team_id", Text, nullable=False),
    Column("charged_cost_nano_usd", BigInteger, nullable=False),
    Column("charge_basis", String(16), nullable=False),  # priced | reserved | none
    Column("reason", Text, nullable=False),
    Column("payload", LargeBinary, nullable=False),  # the SettleRequest as the router sent it
    Index("ix_billing_dead_letters_created", "created_unix_ms"),
)
