"""Alembic environment: migrations run on the connection `migrate.upgrade` hands over."""

from alembic import context

from nextmodel_billing.store.migrate import MIGRATIONS
from nextmodel_billing.store.schema import metadata

MIGRATIONS.run_env(context, metadata)
