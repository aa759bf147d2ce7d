"""Shared fixtures: the fake upstream, the running stack, and real Redis/PostgreSQL.

Real servers come from NEXTMODEL_REDIS_URL / NEXTMODEL_DATABASE_URL, else from
testcontainers when a Docker engine answers, else the test is skipped with the reason;
under CI (CI=true) a missing server fails instead of skipping.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fake_upstream import FakeUpstream
from tests.support.stack import Stack

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# Every provider in the seed is pointed at the fake upstream (env prefix → provider id).
PROVIDERS = {
    "OPENAI": "openai", "ANTHROPIC": "anthropic", "GEMINI": "google", "DEEPSEEK": "deepseek",
    "DASHSCOPE": "alibaba", "ARK": "bytedance-volcengine", "MOONSHOT": "moonshot", "ZAI": "zhipu-zai",
    "MINIMAX": "minimax", "MISTRAL": "mistral", "XAI": "xai",
}


def missing_server(what: str) -> None:
    setting = 'NEXTMODEL_DATABASE_URL' if 'PostgreSQL' in what else 'NEXTMODEL_REDIS_URL'
    message = (f"{what} is not available: set {setting} "
               "or run a Docker engine for testcontainers")
    if IN_CI:
        pytest.fail(f"{message} (CI=true: integration tests must run, not skip)")
    pytest.skip(message)


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A PostgreSQL server URL (SQLAlchemy asyncpg form) for integration tests."""
    url = os.environ.get("NEXTMODEL_DATABASE_URL", "")
    if url.startswith("postgresql"):
        yield url
        return
    if _docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver="asyncpg") as container:
            yield container.get_connection_url()
        return
    missing_server("PostgreSQL")


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    url = os.environ.get("NEXTMODEL_REDIS_URL", "")
    if url:
        yield url
        return
    if _docker_answers():
        from testcontainers.redis import RedisContainer

        with RedisContainer("redis:7-alpine") as container:
            yield f"redis://{container.get_container_host_ip()}:{container.get_exposed_port(6379)}/0"
        return
    missing_server("Redis")


async def _admin(url: str, statement: str) -> None:
    import asyncpg

    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _fresh_database(server_url: str) -> Iterator[str]:
    name = f"nm_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    except OSError as failure:
        missing_server(f"PostgreSQL ({failure})")
    base, _, _ = server_url.rpartition("/")
    yield f"{base}/{name}"
    asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, empty database on the PostgreSQL server for one test, dropped afterwards."""
    yield from _fresh_database(postgres_server_url)


@pytest.fixture(scope="session")
def session_postgres_url(postgres_server_url: str) -> Iterator[str]:
    yield from _fresh_database(postgres_server_url)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path: Path) -> str:
    """Each store test runs on the embedded SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/test.db"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="session")
def fake_upstream() -> Iterator[FakeUpstream]:
    fake = FakeUpstream().start()
    yield fake
    fake.stop()


def provider_env(fake: FakeUpstream) -> dict[str, str]:
    env = {}
    for prefix, provider in PROVIDERS.items():
        env[f"{prefix}_BASE_URL"] = fake.base_url(provider)
        env[f"{prefix}_API_KEY"] = f"sk-test-{prefix.lower()}-upstream-secret"
    return env


# The shared stacks serve the whole suite from one address (loopback), and many tests send a bad
# key on purpose; the failed-authentication guard would soon slow every later test. The guard
# itself is tested on stacks of its own (tests/e2e/test_bad_input.py).
SUITE_AUTH_GUARD = {"NEXTMODEL_AUTH_FAILURE_LIMIT": "100000"}


@pytest.fixture(scope="session")
def embedded_stack(fake_upstream: FakeUpstream, tmp_path_factory) -> Iterator[Stack]:
    """All five real processes on embedded defaults, providers pointed at the fake upstream."""
    running = Stack(
        tmp_path_factory.mktemp("stack"),
        {**provider_env(fake_upstream), "NEXTMODEL_UPSTREAM_FIRST_BYTE_TIMEOUT": "2", **SUITE_AUTH_GUARD},
    ).start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def stack(embedded_stack: Stack) -> Stack:
    """The embedded stack. A module whose tests must hold on both backends overrides `stack`
    with a fixture parametrized over `embedded_stack` and `prod_stack`."""
    return embedded_stack


@pytest.fixture(scope="session")
def prod_stack(fake_upstream: FakeUpstream, tmp_path_factory, session_postgres_url: str,
               redis_url: str) -> Iterator[Stack]:
    """The same processes on production storage: PostgreSQL and Redis."""
    running = Stack(
        tmp_path_factory.mktemp("prod-stack"),
        {**provider_env(fake_upstream), "NEXTMODEL_DATABASE_URL": session_postgres_url,
         "NEXTMODEL_REDIS_URL": redis_url, "NEXTMODEL_UPSTREAM_FIRST_BYTE_TIMEOUT": "2", **SUITE_AUTH_GUARD},
    ).start()
    yield running
    running.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_stack(request) -> Stack:
    """Tests of storage-dependent behaviour run on the embedded stack and the production one."""
    return request.getfixturevalue("embedded_stack" if request.param == "sqlite" else "prod_stack")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """When a test that used the stack fails, show the services' last log lines with it."""
    outcome = yield
    report = outcome.get_result()
    funcargs = getattr(item, "funcargs", {})
    running = funcargs.get("stack") or funcargs.get("any_stack") or funcargs.get("prod_stack")
    if report.failed and isinstance(running, Stack):
        report.sections.append(("stack log (last 60 lines)", "".join(running.log[-60:])))


@pytest.fixture(autouse=True)
def _no_scripted_failure_leaks(request):
    """A scripted upstream failure that a test did not consume must not hit the next test."""
    yield
    if "fake_upstream" in request.fixturenames:
        request.getfixturevalue("fake_upstream").script.clear()


def pytest_sessionfinish(session, exitstatus):
    """Scan every service log line written during the suite for secrets and message content."""
    from tests.support.log_scan import scan_session_logs

    scan_session_logs(session)
