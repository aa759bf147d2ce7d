"""billing tables

Revision ID: 0001
Revises: 
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('billing_budgets',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('scope_id', sa.String(length=64), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('limit_nano_usd', sa.BigInteger(), nullable=False),
    sa.Column('hard', sa.Boolean(), nullable=False),
    sa.Column('created_unix_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('scope', 'scope_id', 'period', name='uq_billing_budgets_scope_period')
    )
    op.create_table('billing_receipts',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=False),
    sa.Column('created_unix_ms', sa.BigInteger(), nullable=False),
    sa.Column('key_id', sa.String(length=64), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('team_id', sa.String(length=64), nullable=False),
    sa.Column('requested_model', sa.String(length=128), nullable=False),
    sa.Column('served_model', sa.String(length=128), nullable=False),
    sa.Column('provider', sa.String(length=64), nullable=False),
    sa.Column('served_mode', sa.String(length=16), nullable=False),
    sa.Column('usage_source', sa.String(length=16), nullable=False),
    sa.Column('prompt_tokens', sa.BigInteger(), nullable=False),
    sa.Column('completion_tokens', sa.BigInteger(), nullable=False),
    sa.Column('cached_prompt_tokens', sa.BigInteger(), nullable=False),
    sa.Column('price_version', sa.String(length=64), nullable=False),
    sa.Column('input_per_mtok_usd', sa.String(length=32), nullable=False),
    sa.Column('cached_input_per_mtok_usd', sa.String(length=32), nullable=False),
    sa.Column('output_per_mtok_usd', sa.String(length=32), nullable=False),
    sa.Column('list_cost_nano_usd', sa.BigInteger(), nullable=False),
    sa.Column('discount_nano_usd', sa.BigInteger(), nullable=False),
    sa.Column('charged_cost_nano_usd', sa.BigInteger(), nullable=False),
    sa.Column('latency_ms', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('tags', sa.Text(), nullable=False),
    sa.Column('replayed_receipt_id', sa.String(length=40), nullable=False),
    sa.Column('credential_source', sa.String(length=16), nullable=False),
    sa.Column('route_reason', sa.Text(), nullable=False),
    sa.Column('attempts', sa.Text(), server_default='[]', nullable=False),
    sa.Column('signature', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id')
    )
    with op.batch_alter_table('billing_receipts', schema=None) as batch_op:
        batch_op.create_index('ix_billing_receipts_created', ['created_unix_ms'], unique=False)
        batch_op.create_index('ix_billing_receipts_project_created', ['project_id', 'created_unix_ms'], unique=False)

    op.create_table('billing_reservations',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_unix_ms', sa.BigInteger(), nullable=False),
    sa.Column('expires_unix_ms', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id')
    )
    with op.batch_alter_table('billing_reservations', schema=None) as batch_op:
        batch_op.create_index('ix_billing_reservations_status_expires', ['status', 'expires_unix_ms'], unique=False)

    op.create_table('billing_teams',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_unix_ms', sa.BigInteger(), nullable=False),
    sa.Column('cache_shared', sa.Boolean(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('billing_budget_counters',
    sa.Column('budget_id', sa.String(length=40), nullable=False),
    sa.Column('period_key', sa.String(length=16), nullable=False),
    sa.Column('spent_nano_usd', sa.BigInteger(), nullable=False),
    sa.Column('reserved_nano_usd', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['budget_id'], ['billing_budgets.id'], ),
    sa.PrimaryKeyConstraint('budget_id', 'period_key')
    )
    op.create_table('billing_projects',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('team_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_unix_ms', sa.BigInteger(), nullable=False),
    sa.Column('cache_enabled', sa.Boolean(), server_default='1', nullable=False),
    sa.Column('cache_ttl_seconds', sa.Integer(), server_default='86400', nullable=False),
    sa.Column('cache_discount_bps', sa.Integer(), server_default='5000', nullable=False),
    sa.Column('cache_sampled', sa.Boolean(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['billing_teams.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('billing_projects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_projects_team_id'), ['team_id'], unique=False)

    op.create_table('billing_receipt_tags',
    sa.Column('receipt_id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=256), nullable=False),
    sa.ForeignKeyConstraint(['receipt_id'], ['billing_receipts.id'], ),
    sa.PrimaryKeyConstraint('receipt_id', 'name')
    )
    with op.batch_alter_table('billing_receipt_tags', schema=None) as batch_op:
        batch_op.create_index('ix_billing_receipt_tags_name_value', ['name', 'value'], unique=False)

    op.create_table('billing_reservation_lines',
    sa.Column('reservation_id', sa.String(length=40), nullable=False),
    sa.Column('budget_id', sa.String(length=40), nullable=False),
    sa.Column('period_key', sa.String(length=16), nullable=False),
    sa.Column('amount_nano_usd', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['reservation_id'], ['billing_reservations.id'], ),
    sa.PrimaryKeyConstraint('reservation_id', 'budget_id')
    )
    op.create_table('billing_api_keys',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_unix_ms', sa.BigInteger(), nullable=False),
    sa.Column('expires_unix_ms', sa.BigInteger(), nullable=True),
    sa.Column('revoked_unix_ms', sa.BigInteger(), nullable=True),
    sa.Column('allowed_models', sa.Text(), server_default='[]', nullable=False),
    sa.Column('default_policy', sa.String(length=128), server_default='', nullable=False),
    sa.Column('tags', sa.Text(), server_default='{}', nullable=False),
    sa.Column('requests_per_minute', sa.Integer(), server_default='0', nullable=False),
    sa.Column('tokens_per_minute', sa.BigInteger(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['billing_projects.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key_hash')
    )
    with op.batch_alter_table('billing_api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_api_keys_project_id'), ['project_id'], unique=False)

    op.create_table('billing_provider_keys',
    sa.Column('project_id', sa.String(length=64), nullable=False),
    sa.Column('provider', sa.String(length=64), nullable=False),
    sa.Column('ciphertext', sa.Text(), nullable=False),
    sa.Column('updated_unix_ms', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['billing_projects.id'], ),
    sa.PrimaryKeyConstraint('project_id', 'provider')
    )


def downgrade() -> None:
    op.drop_table('billing_provider_keys')
    with op.batch_alter_table('billing_api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_api_keys_project_id'))

    op.drop_table('billing_api_keys')
    op.drop_table('billing_reservation_lines')
    with op.batch_alter_table('billing_receipt_tags', schema=None) as batch_op:
        batch_op.drop_index('ix_billing_receipt_tags_name_value')

    op.drop_table('billing_receipt_tags')
    with op.batch_alter_table('billing_projects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_projects_team_id'))

    op.drop_table('billing_projects')
    op.drop_table('billing_budget_counters')
    op.drop_table('billing_teams')
    with op.batch_alter_table('billing_reservations', schema=None) as batch_op:
        batch_op.drop_index('ix_billing_reservations_status_expires')

    op.drop_table('billing_reservations')
    with op.batch_alter_table('billing_receipts', schema=None) as batch_op:
        batch_op.drop_index('ix_billing_receipts_project_created')
        batch_op.drop_index('ix_billing_receipts_created')

    op.drop_table('billing_receipts')
    op.drop_table('billing_budgets')
