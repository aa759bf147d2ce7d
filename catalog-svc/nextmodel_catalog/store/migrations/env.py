"""Alembic environment: migrations run on the connection `migrate.upgrade` hands over."""

from alembic import context

from nextmodel_catalog.store.migrate import MIGRATIONS
from nextmodel_catalog.store.schema import metadata

MIGRATIONS.run_env(context, metadata)
