"""The catalog tables. Alembic migrations (store/migrations) create and evolve them.

Every table is prefixed `catalog_` so catalog and billing can share one database. Definitions
are JSON text (the domain dataclasses, keys sorted), so the rows follow the seed's shape.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, MetaData, String, Table, Text

from nextmodel_common import limits

metadata = MetaData()

providers = Table(
    "catalog_providers",
    metadata,
    Column("id", String(limits.PROVIDER_ID.max_length), primary_key=True),
    Column("definition", Text, nullable=False),
)
models = Table(
    "catalog_models",
    metadata,
    Column("id", String(limits.CATALOG_MODEL_ID.max_length), primary_key=True),
    Column("definition", Text, nullable=False),
    Column("created", BigInteger, nullable=False),
)
prices = Table(
    "catalog_prices",
    metadata,
    Column("model_id", String(limits.CATALOG_MODEL_ID.max_length), primary_key=True),
    Column("version", String(64), primary_key=True),
    Column("definition", Text, nullable=False),
    Column("recorded_unix_ms", BigInteger, nullable=False),
)
meta = Table(
    "catalog_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
policies = Table(
    "catalog_policies",
    metadata,
    Column("name", String(limits.POLICY_NAME.max_length), primary_key=True),
    Column("definition", Text, nullable=False),
)
