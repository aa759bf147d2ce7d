"""Alembic migrations build exactly the schema the code declares (so a model change without a migration fails).

Billing and catalog each have their own migrations, version table and advisory lock; they share
one database in production, and a catalog database made before migrations (create_all at start)
joins them with its rows.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import BigInteger, Column, MetaData, String, Table, Text, inspect, text

from nextmodel_billing.store import migrate as billing_migrate
from nextmodel_billing.store.schema import metadata as billing_metadata
from nextmodel_catalog.config import DEFAULT_SEED
from nextmodel_catalog.domain import load_seed
from nextmodel_catalog.store import SqlCatalogStore
from nextmodel_catalog.store import migrate as catalog_migrate
from nextmodel_catalog.store.schema import metadata as catalog_metadata
from nextmodel_common.db import make_engine

pytestmark = pytest.mark.integration

SERVICES = {
    "billing": (billing_migrate, billing_metadata),
    "catalog": (catalog_migrate, catalog_metadata),
}


def differences(connection, migrate, metadata) -> list:
    """What Alembic would change to make the database match `metadata`: only this service's tables."""
    context = MigrationContext.configure(connection, opts={
        "version_table": migrate.VERSION_TABLE, "compare_type": True, "include_name": migrate.MIGRATIONS.owns})
    return compare_metadata(context, metadata)


def version(connection, migrate) -> str | None:
    return MigrationContext.configure(connection, opts={"version_table": migrate.VERSION_TABLE}).get_current_revision()


def head(migrate) -> str:
    return ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_from_an_empty_database_match_the_schema(database_url, service) -> None:
    migrate, metadata = SERVICES[service]
    engine = make_engine(database_url)
    async with engine.connect() as conn:
        assert await conn.run_sync(lambda c: inspect(c).get_table_names()) == [], "expected an empty database"
    await migrate.upgrade(engine)
    await migrate.upgrade(engine)  # a second run is a no-op

    async with engine.connect() as conn:
        diff = await conn.run_sync(differences, migrate, metadata)
        assert await conn.run_sync(version, migrate) == head(migrate)
        tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    await engine.dispose()
    assert diff == [], f"{service}: schema and migrations differ; add a migration: {diff}"
    assert tables == set(metadata.tables) | {migrate.VERSION_TABLE}


async def test_the_comparison_fails_when_the_schema_has_no_migration(tmp_path) -> None:
    """The check above is worth something only if a table or column without a migration shows up."""
    drifted = MetaData()
    for table in catalog_metadata.tables.values():
        table.to_metadata(drifted)
    drifted.tables["catalog_models"].append_column(Column("note", Text))
    Table("catalog_aliases", drifted, Column("alias", String(128), primary_key=True))
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/drift.db")
    await catalog_migrate.upgrade(engine)
    async with engine.connect() as conn:
        diff = await conn.run_sync(differences, catalog_migrate, drifted)
    await engine.dispose()
    found = sorted((d[0], d[2] if d[0] == "add_column" else d[1].name) for d in diff)
    assert found == [("add_column", "catalog_models"), ("add_table", "catalog_aliases")], diff


async def test_billing_and_catalog_share_one_database(database_url) -> None:
    """Two version tables, two locks; each sees only its own tables and leaves the other's alone."""
    assert billing_migrate.VERSION_TABLE != catalog_migrate.VERSION_TABLE
    assert billing_migrate.MIGRATIONS.lock_id != catalog_migrate.MIGRATIONS.lock_id
    assert not set(billing_metadata.tables) & set(catalog_metadata.tables)
    engine = make_engine(database_url)
    await billing_migrate.upgrade(engine)
    await catalog_migrate.upgrade(engine)
    await billing_migrate.upgrade(engine)  # each finds its own version current, whatever the other did
    async with engine.connect() as conn:
        for service, (migrate, metadata) in SERVICES.items():
            assert await conn.run_sync(differences, migrate, metadata) == [], service
            assert await conn.run_sync(version, migrate) == head(migrate), service
            # What `alembic check` (autogenerate, through the service's own env.py) finds: nothing,
            # so the next migration written against a shared database drops none of the other's tables.
            await conn.run_sync(lambda c, m=migrate: command.check(m.MIGRATIONS.config(c)))
        tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    assert tables == set(billing_metadata.tables) | set(catalog_metadata.tables) | {
        billing_migrate.VERSION_TABLE, catalog_migrate.VERSION_TABLE}

    # Both stores work on it.
    store = SqlCatalogStore(database_url)
    await store.open()
    await store.apply(load_seed(DEFAULT_SEED), now_ms=1_700_000_000_000)
    assert (await store.load()).models
    await store.close()
    await engine.dispose()


def legacy_metadata(*, with_meta: bool = True) -> MetaData:
    """The catalog tables as the create-at-start code declared them (store/sql.py before migrations;
    `with_meta=False` is the code before catalog_meta existed). A frozen copy: never edit it."""
    legacy = MetaData()
    Table("catalog_providers", legacy, Column("id", String(64), primary_key=True),
          Column("definition", Text, nullable=False))
    Table("catalog_models", legacy, Column("id", String(128), primary_key=True),
          Column("definition", Text, nullable=False), Column("created", BigInteger, nullable=False))
    Table("catalog_prices", legacy, Column("model_id", String(128), primary_key=True),
          Column("version", String(64), primary_key=True), Column("definition", Text, nullable=False),
          Column("recorded_unix_ms", BigInteger, nullable=False))
    if with_meta:
        Table("catalog_meta", legacy, Column("key", String(64), primary_key=True),
              Column("value", Text, nullable=False))
    Table("catalog_policies", legacy, Column("name", String(128), primary_key=True),
          Column("definition", Text, nullable=False))
    return legacy


@pytest.mark.parametrize("with_meta", [True, False], ids=["current", "before-catalog_meta"])
async def test_a_catalog_database_made_before_migrations_upgrades_with_its_rows(database_url, with_meta) -> None:
    engine = make_engine(database_url)
    # What the old SqlCatalogStore.open did, next to billing's migrated tables, then some rows.
    await billing_migrate.upgrade(engine)
    async with engine.begin() as conn:
        await conn.run_sync(legacy_metadata(with_meta=with_meta).create_all)
        await conn.execute(text("INSERT INTO catalog_policies (name, definition) VALUES ('kept', '{\"rules\": []}')"))
        if with_meta:
            await conn.execute(text("INSERT INTO catalog_meta (key, value) VALUES ('seed_hash', 'abc')"))

    store = SqlCatalogStore(database_url)
    await store.open()  # upgrades: keeps the tables and rows, creates what is missing, records 0001
    assert await store.seed_hash() == ("abc" if with_meta else "")
    assert [p.name for p in (await store.load()).policies] == ["kept"]
    await store.apply(load_seed(DEFAULT_SEED), now_ms=1_700_000_000_000)
    await store.set_seed_hash("def")
    await store.close()

    await catalog_migrate.upgrade(engine)  # later starts: nothing to do
    async with engine.connect() as conn:
        assert await conn.run_sync(version, catalog_migrate) == head(catalog_migrate)
        assert await conn.run_sync(differences, catalog_migrate, catalog_metadata) == []
        assert await conn.run_sync(differences, billing_migrate, billing_metadata) == []
    await engine.dispose()


async def test_a_foreign_table_with_a_catalog_name_is_not_adopted(database_url) -> None:
    """Only tables the catalog made are kept: one with other columns stops the upgrade, which
    creates nothing; once it is out of the way the upgrade goes through."""
    engine = make_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE catalog_models (id VARCHAR(10) PRIMARY KEY, owner TEXT)"))
    with pytest.raises(RuntimeError, match="catalog_models exists with columns"):
        await catalog_migrate.upgrade(engine)
    async with engine.connect() as conn:
        assert await conn.run_sync(version, catalog_migrate) is None
        names = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    # (SQLite does not roll back DDL: the version table Alembic made first stays, empty.)
    assert names - {catalog_migrate.VERSION_TABLE} == {"catalog_models"}
    async with engine.begin() as conn:
        await conn.execute(text("DROP TABLE catalog_models"))
    await catalog_migrate.upgrade(engine)
    async with engine.connect() as conn:
        assert await conn.run_sync(differences, catalog_migrate, catalog_metadata) == []
    await engine.dispose()


def test_replicas_starting_together_on_an_empty_postgresql_take_turns(postgres_url, tmp_path) -> None:
    """Catalog and billing pods (and the migration Job) upgrading at once, each its own process:
    each service's advisory lock lets one create its tables; the others then find them current."""
    env = {**os.environ, "NEXTMODEL_DATABASE_URL": postgres_url}
    runs = [subprocess.Popen([sys.executable, "-m", f"nextmodel_{service}.store.migrate"], cwd=tmp_path, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for service in ("catalog", "billing", "catalog", "billing", "catalog")]
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
        assert "schema is up to date" in out

    async def check() -> None:
        engine = make_engine(postgres_url)
        async with engine.connect() as conn:
            for service, (migrate, metadata) in SERVICES.items():
                assert await conn.run_sync(version, migrate) == head(migrate), service
                assert await conn.run_sync(differences, migrate, metadata) == [], service
        await engine.dispose()

    asyncio.run(check())


async def test_python_m_nextmodel_catalog_store_migrate_upgrades_the_configured_database(tmp_path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/catalog.db"
    run = subprocess.run([sys.executable, "-m", "nextmodel_catalog.store.migrate"], cwd=tmp_path,
                         env={**os.environ, "NEXTMODEL_DATABASE_URL": url}, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    assert "catalog schema is up to date" in run.stdout
    engine = make_engine(url)
    async with engine.connect() as conn:
        assert await conn.run_sync(version, catalog_migrate) == head(catalog_migrate)
    await engine.dispose()
