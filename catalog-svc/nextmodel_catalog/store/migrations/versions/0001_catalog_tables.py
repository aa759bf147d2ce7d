"""catalog tables

Revision ID: 0001
Revises: 
Create Date: 2026-12-07

Before migrations the catalog created these tables at start (`metadata.create_all`, which adds
missing tables and leaves existing ones alone). A database made that way holds some or all of
them, with their rows, and no version table. So this first migration keeps each table it finds,
once it has checked that its columns are the ones that code gave it, and creates the others; on an
empty database it creates all five. Later migrations change tables as usual.
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def _tables() -> list[tuple]:
    """(name, columns and constraints) of each catalog table at this revision."""
    return [
        ('catalog_meta',
         sa.Column('key', sa.String(length=64), nullable=False),
         sa.Column('value', sa.Text(), nullable=False),
         sa.PrimaryKeyConstraint('key')),
        ('catalog_models',
         sa.Column('id', sa.String(length=128), nullable=False),
         sa.Column('definition', sa.Text(), nullable=False),
         sa.Column('created', sa.BigInteger(), nullable=False),
         sa.PrimaryKeyConstraint('id')),
        ('catalog_policies',
         sa.Column('name', sa.String(length=128), nullable=False),
         sa.Column('definition', sa.Text(), nullable=False),
         sa.PrimaryKeyConstraint('name')),
        ('catalog_prices',
         sa.Column('model_id', sa.String(length=128), nullable=False),
         sa.Column('version', sa.String(length=64), nullable=False),
         sa.Column('definition', sa.Text(), nullable=False),
         sa.Column('recorded_unix_ms', sa.BigInteger(), nullable=False),
         sa.PrimaryKeyConstraint('model_id', 'version')),
        ('catalog_providers',
         sa.Column('id', sa.String(length=64), nullable=False),
         sa.Column('definition', sa.Text(), nullable=False),
         sa.PrimaryKeyConstraint('id')),
    ]


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    existing = set(inspector.get_table_names())
    # Each table found must be the one the create-at-start code made: checked before anything is
    # created, so a failed check leaves the database as it was (SQLite does not roll back DDL).
    for name, *elements in _tables():
        if name in existing:
            found = sorted(column['name'] for column in inspector.get_columns(name))
            expected = sorted(element.name for element in elements if isinstance(element, sa.Column))
            if found != expected:
                raise RuntimeError(f"{name} exists with columns {found}, not the catalog's {expected}: "
                                   "the catalog did not make it; rename or drop it, then start again")
    for name, *elements in _tables():
        if name not in existing:
            op.create_table(name, *elements)


def downgrade() -> None:
    for name, *_ in reversed(_tables()):
        op.drop_table(name)
