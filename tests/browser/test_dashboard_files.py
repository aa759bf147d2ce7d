"""The dashboard's files, without a browser: how the edge serves them, the strings of both
languages, and the vendored Chart.js. These run everywhere, Chromium or not."""

from __future__ import annotations

import hashlib
import re

import pytest
from fastapi.testclient import TestClient

from nextmodel_edge.app import create_app
from nextmodel_edge.config import EdgeSettings
from nextmodel_edge.dashboard.routes import STATIC

CHART_JS_SHA256 = "87364cc2b2a76a6684929e7d6b80b18a897794db38400caff1fcf1791c6925d2"


@pytest.fixture(scope="module")
def client() -> TestClient:
    # No lifespan: serving files needs no gRPC channel.
    return TestClient(create_app(EdgeSettings()))


def test_the_pages_are_served_with_a_strict_content_security_policy(client: TestClient) -> None:
    page = client.get("/dashboard/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "default-src 'none'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert client.get("/dashboard", follow_redirects=False).headers["location"] == "/dashboard/"
    script = client.get("/dashboard/js/app.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert client.get("/dashboard/js/app.js", headers={"if-none-match": script.headers["etag"]}).status_code == 304
    chart = client.get("/dashboard/vendor/chart.js/chart.umd.min.js")
    assert chart.status_code == 200 and hashlib.sha256(chart.content).hexdigest() == CHART_JS_SHA256


@pytest.mark.parametrize("path", ["/dashboard/../pyproject.toml", "/dashboard/%2e%2e/routes.py",
                                  "/dashboard/js/%2e%2e/%2e%2e/routes.py", "/dashboard/routes.py",
                                  "/dashboard/.gitignore", "/dashboard/js//app.js", "/dashboard/nothing.js"])
def test_nothing_but_the_dashboards_files_is_served(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 404 or not answer.url.path.startswith("/dashboard/"), path
    assert b"import " not in answer.content and b"[build-system]" not in answer.content


def test_the_html_has_no_inline_script_or_style() -> None:
    html = (STATIC / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "every script is a file (CSP: script-src 'self')"
    assert "<style" not in html and " style=" not in html
    for source in (STATIC / "js").rglob("*.js"):
        text = source.read_text()
        assert not re.search(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|\beval\(|new Function\("
                             r"|setAttribute\(\"style\"",
                             text), source


def _strings() -> tuple[dict[str, set[str]], set[str]]:
    text = (STATIC / "js" / "i18n.js").read_text()
    english, arabic = text.split("\n  ar: {\n", 1)
    keys = {name: set(re.findall(r'^    "([^"]+)":', part, re.M)) for name, part in (("en", english), ("ar", arabic))}
    used = set()
    for source in (STATIC / "js").rglob("*.js"):
        used |= set(re.findall(r'\bt\(\s*"([^"]+)"', source.read_text()))
    return keys, used


def test_both_languages_have_every_string() -> None:
    keys, used = _strings()
    assert keys["en"] == keys["ar"], {"only English": keys["en"] - keys["ar"], "only Arabic": keys["ar"] - keys["en"]}
    assert used <= keys["en"], used - keys["en"]
    # Keys built at run time: served modes, groups, periods, scopes, capabilities, currencies.
    for family, names in {"mode": ["fresh", "exact_cache"], "period": ["daily", "weekly", "monthly", "total"],
                          "scope": ["key", "project", "team"], "currency": ["USD", "SAR"],
                          "group": ["model", "provider", "served_mode", "key", "project", "team", "day", "tag"],
                          "cap": ["tools", "vision", "json_schema", "streaming", "reasoning"]}.items():
        assert {f"{family}.{name}" for name in names} <= keys["en"], family


def test_the_vendored_chart_js_is_pinned_with_its_license() -> None:
    vendor = STATIC / "vendor" / "chart.js"
    assert hashlib.sha256((vendor / "chart.umd.min.js").read_bytes()).hexdigest() == CHART_JS_SHA256
    assert (vendor / "chart.umd.min.js").read_text()[:200].count("Chart.js v4.6.1") == 1
    assert "MIT License" in (vendor / "LICENSE.md").read_text()
    assert CHART_JS_SHA256 in (vendor / "VENDORED.md").read_text()
