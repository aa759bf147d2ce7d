"""dead letters; requested_model holds nextmodel/<policy> at its longest

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('billing_dead_letters',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('request_key', sa.String(length=64), nullable=False),
    sa.Column('created_unix_ms', sa.BigInteger(), nullable=False),
    sa.Column('request_id', sa.Text(), nullable=False),
    sa.Column('receipt_id', sa.Text(), nullable=False),
    sa.Column('key_id', sa.Text(), nullable=False),
    sa.Column('project_id', sa.Text(), nullable=False),
    sa.Column('team_id', sa.Text(), nullable=False),
    sa.Column('charged_cost_nano_usd', sa.BigInteger(), nullable=False),
    sa.Column('charge_basis', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_key')
    )
    op.create_index('ix_billing_dead_letters_created', 'billing_dead_letters', ['created_unix_ms'], unique=False)
    with op.batch_alter_table('billing_receipts') as batch:
        batch.alter_column('requested_model', existing_type=sa.String(length=128), type_=sa.String(length=256),
                           existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('billing_receipts') as batch:
        batch.alter_column('requested_model', existing_type=sa.String(length=256), type_=sa.String(length=128),
                           existing_nullable=False)
    op.drop_index('ix_billing_dead_letters_created', table_name='billing_dead_letters')
    op.drop_table('billing_dead_letters')
