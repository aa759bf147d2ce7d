"""Alembic environment: migrations run on the connection `migrate.upgrade` hands over."""

from alembic import context

from nextmodel_billing.store.migrate import VERSION_TABLE
from nextmodel_billing.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE,
                  render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
