"""Headless Chromium for the dashboard's browser tests, driven by Playwright.

The browser is Debian's `chromium` (never one that `playwright install` downloads). Where
the machine has no Chromium or no Playwright the tests skip with the reason; under CI
(CI=true) they fail instead, as tests/conftest.py does for a missing Redis or PostgreSQL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI

CHROMIUM = os.environ.get("NEXTMODEL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "dashboard"
HOW_TO_INSTALL = ("install Debian's Chromium (apt-get install chromium) and Playwright for Python "
                  "(make test installs it; never run `playwright install`)")


def missing_browser(what: str) -> None:
    message = f"{what}: the dashboard's browser tests need a headless Chromium; {HOW_TO_INSTALL}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: browser tests must run, not skip)")
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One Chromium per test module. Playwright's sync API runs its own event loop; it is
    stopped when the module ends, so the asyncio tests after it get theirs back."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing_browser("Playwright for Python is not installed")
    if not os.access(CHROMIUM, os.X_OK):
        missing_browser(f"{CHROMIUM} is not there")
    playwright = sync_playwright().start()
    try:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    except Exception:
        playwright.stop()
        raise
    yield launched
    launched.close()
    playwright.stop()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Screenshots go to artifacts/dashboard/ (git-ignored), kept after the run."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
