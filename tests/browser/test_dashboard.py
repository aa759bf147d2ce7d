"""The spend dashboard in headless Chromium against the running stack, with real traffic.

Two fresh projects send real chat completions through the edge (Fresh calls and Exact-cache
replays); the tests then drive the real pages: sign in, read the Fresh and Exact-cache spend
and check them against the receipts, switch to Arabic (right to left) and to SAR, open a
receipt and follow it to the fresh receipt it replays, explore and download usage, compare
catalog models, manage keys and budgets as the admin, and check that one project's key never
sees another project's data. Every page is saved in English and Arabic under
artifacts/dashboard/ (git-ignored).
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
import openai
import pytest

from nextmodel_billing.domain import receipt_from_dict, verify
from nextmodel_common import money
from tests.support.accounts import Account, new_account
from tests.support.stack import RECEIPT_SECRET, Stack

pytestmark = pytest.mark.e2e

QUESTIONS = ["What is the capital of Saudi Arabia?", "Summarise the invoice in one line."]
TAGS = "feature=search,env=prod"
ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩٫٬", "0123456789.,")


@dataclass
class Traffic:
    a: Account
    b: Account
    a_receipts: list[dict]
    b_receipts: list[dict]
    budget_id: str

    @staticmethod
    def nano(receipts: list[dict], mode: str, field: str = "charged_cost") -> int:
        return sum(r[f"{field}_nano_usd"] for r in receipts if r["served_mode"] == mode)

    def hit(self) -> dict:
        return next(r for r in self.a_receipts if r["served_mode"] == "exact_cache")


def _ask(client: openai.OpenAI, model: str, question: str) -> str:
    raw = client.chat.completions.with_raw_response.create(
        model=model, temperature=0, messages=[{"role": "user", "content": question}],
        extra_headers={"x-nextmodel-tags": TAGS})
    return raw.headers["x-nextmodel-served-mode"]


def _receipts(stack: Stack, key: str, count: int) -> list[dict]:
    """The project's receipts as the export gives them (one JSON object per line)."""
    deadline = time.monotonic() + 15
    while True:
        answer = httpx.get(f"{stack.base_url}/usage/export", params={"format": "jsonl"},
                           headers={"authorization": f"Bearer {key}"}, timeout=30)
        assert answer.status_code == 200, answer.text
        rows = [json.loads(line) for line in answer.text.splitlines() if line.strip()]
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


@pytest.fixture(scope="module")
def traffic(browser, stack: Stack) -> Traffic:
    """Project A: three Fresh calls and two Exact-cache replays; project B: one Fresh call."""
    a, b = new_account(stack), new_account(stack)
    with stack.admin() as admin:
        # Set before the traffic, so the gauges show the spend of these requests.
        budget = admin.put("/admin/v1/budgets", json={"scope": "project", "scope_id": a.project_id,
                                                      "period": "monthly", "limit_usd": "0.00005", "hard": False})
        assert budget.status_code == 200, budget.text
        assert admin.put("/admin/v1/budgets", json={"scope": "key", "scope_id": a.key_id, "period": "daily",
                                                    "limit_usd": "1", "hard": True}).status_code == 200
    client_a = openai.OpenAI(base_url=stack.base_url, api_key=a.key, max_retries=0)
    modes = [_ask(client_a, "gpt-4o-mini", QUESTIONS[0]), _ask(client_a, "gpt-4o-mini", QUESTIONS[0]),
             _ask(client_a, "gpt-4o-mini", QUESTIONS[1]), _ask(client_a, "gpt-4o-mini", QUESTIONS[1]),
             _ask(client_a, "deepseek-chat", QUESTIONS[0])]
    assert modes == ["fresh", "exact_cache", "fresh", "exact_cache", "fresh"]
    client_b = openai.OpenAI(base_url=stack.base_url, api_key=b.key, max_retries=0)
    assert _ask(client_b, "gpt-4o-mini", QUESTIONS[0]) == "fresh", "the exact cache is per project"
    a_receipts, b_receipts = _receipts(stack, a.key, 5), _receipts(stack, b.key, 1)
    assert len(a_receipts) == 5 and len(b_receipts) == 1
    return Traffic(a, b, a_receipts, b_receipts, budget.json()["id"])


class Dashboard:
    """One browser tab on the dashboard, with waits that follow the app's render generations."""

    def __init__(self, page, stack: Stack, artifacts: Path) -> None:
        self.page = page
        self.stack = stack
        self.artifacts = artifacts

    def open(self) -> None:
        self.page.goto(f"{self.stack.edge_url}/dashboard/")
        self.page.wait_for_selector("[data-testid=sign-in-form]")

    def generation(self) -> int:
        return self.page.evaluate(
            "() => Math.max(0, ...[...document.querySelectorAll('[data-generation]')].map(e => +e.dataset.generation))")

    def wait_newer(self, generation: int) -> None:
        self.page.wait_for_function("""g => {
            const view = document.querySelector('.view');
            const element = view || document.querySelector('.sign-in-page');
            return element && +element.dataset.generation > g && (!view || ['ready', 'error'].includes(view.dataset.state));
        }""", arg=generation)
        self.page.wait_for_function(
            "() => [...document.querySelectorAll('.chart-box canvas')].every(c => window.Chart && Chart.getChart(c))")
        view = self.page.query_selector(".view[data-state=error]")
        assert view is None, f"the page failed: {view.inner_text()}"

    def click(self, selector: str) -> None:
        before = self.generation()
        self.page.click(selector)
        self.wait_newer(before)

    def sign_in(self, key: str) -> None:
        self.page.fill("[data-testid=sign-in-key]", key)
        self.click("[data-testid=sign-in-submit]")

    def go(self, route: str) -> None:
        before = self.generation()
        self.page.evaluate("route => { window.location.hash = route; }", route)
        self.wait_newer(before)

    def language(self, code: str) -> None:
        self.click(f"[data-testid=lang-{code}]")

    def currency(self, code: str) -> None:
        self.click(f"[data-testid=currency-{code}]")

    def kpi(self, testid: str):
        return self.page.locator(f"[data-testid={testid}] .kpi-value")

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.artifacts / f"{name}.png"), full_page=True)


@pytest.fixture
def dashboard(browser, stack: Stack, artifacts: Path) -> Iterator[Dashboard]:
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="en-US", accept_downloads=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    # Answers the page handles (401 while probing the key, 404 for another project's receipt)
    # are logged by Chromium as "Failed to load resource"; anything else is a defect
    # (a script error, a Content-Security-Policy violation).
    page.on("console", lambda entry: problems.append(f"console {entry.type}: {entry.text}")
            if entry.type == "error" and not entry.text.startswith("Failed to load resource") else None)
    yield Dashboard(page, stack, artifacts)
    context.close()
    assert not problems, problems


def shown(text: str) -> Decimal:
    """An amount as the page shows it (any digits, separators and currency sign) as a Decimal."""
    number = re.search(r"-?\d[\d,]*(?:\.\d+)?", text.translate(ARABIC_DIGITS))
    assert number, f"no amount in {text!r}"
    return Decimal(number.group(0).replace(",", ""))


def flatten(value, prefix: str = "") -> dict[str, object]:
    """Dotted paths like the page's data-field attributes ("price.version", "attempts.0.model")."""
    if isinstance(value, dict):
        if not value and prefix:
            return {prefix: value}
        return {k: v for key, item in value.items() for k, v in flatten(item, f"{prefix}.{key}" if prefix else key).items()}
    if isinstance(value, list):
        if not value:
            return {prefix: value}
        return {k: v for i, item in enumerate(value) for k, v in flatten(item, f"{prefix}.{i}").items()}
    return {prefix: value}


def as_page_value(value) -> str:
    """What the page puts in data-value: String(value) in JavaScript, JSON for {} and []."""
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


def test_sign_in_is_required_and_a_wrong_key_is_refused(dashboard: Dashboard, stack: Stack) -> None:
    page = dashboard.page
    answer = httpx.get(f"{stack.edge_url}/dashboard/")
    assert answer.status_code == 200
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert httpx.get(f"{stack.base_url}/usage").status_code == 401, "no data without a key"

    dashboard.open()
    assert page.locator("[data-testid=nav-overview]").count() == 0, "nothing but the sign-in form"
    dashboard.shot("01-sign-in-en")
    page.fill("[data-testid=sign-in-key]", "nm-not-a-real-key-" + "x" * 24)
    page.click("[data-testid=sign-in-submit]")
    page.wait_for_selector("[data-testid=sign-in-error] .message.error")
    assert "did not accept" in page.inner_text("[data-testid=sign-in-error]")
    assert page.evaluate("sessionStorage.length") == 0
    dashboard.language("ar")
    assert page.get_attribute("html", "dir") == "rtl"
    dashboard.shot("01-sign-in-ar")


def test_overview_spend_matches_the_receipts_in_both_languages_and_currencies(
        dashboard: Dashboard, traffic: Traffic) -> None:
    page = dashboard.page
    fresh = Traffic.nano(traffic.a_receipts, "fresh")
    cached = Traffic.nano(traffic.a_receipts, "exact_cache")
    saved = Traffic.nano(traffic.a_receipts, "exact_cache", "discount")
    assert fresh > 0 and cached > 0 and saved > 0

    dashboard.open()
    dashboard.sign_in(traffic.a.key)
    assert page.get_attribute("[data-testid=who]", "data-role") == "project"
    assert traffic.a.project_id in page.inner_text("[data-testid=who]")
    # The key is kept in sessionStorage only: not in the URL, not in the page.
    assert traffic.a.key not in page.url and traffic.a.key not in page.content()
    assert page.locator("[data-testid=nav-admin]").count() == 0

    for testid, nano in (("kpi-fresh", fresh), ("kpi-exact-cache", cached), ("kpi-savings", saved),
                         ("kpi-total", fresh + cached)):
        assert dashboard.kpi(testid).get_attribute("data-amount") == money.usd(nano), testid
        assert shown(dashboard.kpi(testid).inner_text()) == Decimal(money.usd(nano)), testid
    hit_rate = dashboard.kpi("kpi-hit-rate")
    assert (hit_rate.get_attribute("data-hits"), hit_rate.get_attribute("data-requests")) == ("2", "5")
    assert hit_rate.inner_text() == "40%"
    assert page.locator("[data-testid=chart-spend-over-time] canvas").count() == 1
    legend = page.evaluate("Chart.getChart(document.querySelector('[data-testid=chart-spend-over-time] canvas'))"
                           ".data.datasets.map(d => [d.label, d.amounts.reduce((a, b) => a + ' ' + b)])")
    assert [label for label, _ in legend] == ["Fresh", "Exact cache"]
    assert page.locator("[data-testid=top-projects] tbody tr").count() == 1
    assert page.get_attribute("[data-testid=top-projects] tbody tr", "data-group") == traffic.a.project_id
    assert page.locator("[data-testid=budgets-admin-only]").count() == 1
    dashboard.shot("02-overview-en")

    dashboard.currency("SAR")
    assert dashboard.kpi("kpi-fresh").get_attribute("data-amount") == money.sar(fresh)
    assert dashboard.kpi("kpi-exact-cache").get_attribute("data-amount") == money.sar(cached)
    assert "SAR" in dashboard.kpi("kpi-fresh").inner_text()
    assert shown(dashboard.kpi("kpi-exact-cache").inner_text()) == Decimal(money.sar(cached))

    dashboard.language("ar")
    assert page.get_attribute("html", "dir") == "rtl" and page.get_attribute("html", "lang") == "ar"
    assert page.evaluate("getComputedStyle(document.querySelector('.kpis')).direction") == "rtl"
    assert page.inner_text("[data-testid=nav-overview]") == "نظرة عامة"
    assert page.inner_text("[data-testid=kpi-exact-cache] h3") == "إنفاق الذاكرة المطابقة"
    assert shown(dashboard.kpi("kpi-fresh").inner_text()) == Decimal(money.sar(fresh))
    assert shown(dashboard.kpi("kpi-savings").inner_text()) == Decimal(money.sar(saved))
    # The chart mirrors too: its x axis runs right to left.
    assert page.evaluate("Chart.getChart(document.querySelector('[data-testid=chart-spend-over-time] canvas'))"
                         ".options.scales.x.reverse") is True
    dashboard.shot("02-overview-ar")


def test_a_receipt_shows_every_field_its_signature_and_the_fresh_receipt_it_replays(
        dashboard: Dashboard, traffic: Traffic, stack: Stack, tmp_path: Path) -> None:
    page = dashboard.page
    hit = traffic.hit()
    dashboard.open()
    dashboard.sign_in(traffic.a.key)
    dashboard.click("[data-testid=nav-receipts]")
    listed = page.eval_on_selector_all("[data-testid=recent-receipts] tbody tr", "rows => rows.map(r => r.dataset.receiptId)")
    assert sorted(listed) == sorted(r["id"] for r in traffic.a_receipts)
    dashboard.shot("04-receipts-en")
    dashboard.language("ar")
    dashboard.shot("04-receipts-ar")
    dashboard.language("en")

    dashboard.click(f"[data-testid=recent-receipts] tr[data-receipt-id='{hit['id']}'] a")
    api = httpx.get(f"{stack.base_url}/receipts/{hit['id']}", headers={"authorization": f"Bearer {traffic.a.key}"}).json()
    fields = dict(page.eval_on_selector_all("[data-testid=receipt-fields] tbody tr",
                                            "rows => rows.map(r => [r.dataset.field, r.dataset.value])"))
    expected = {path: as_page_value(value) for path, value in flatten(api).items()}
    assert fields == expected, "every field of the receipt, with its value"
    assert page.inner_text("[data-testid=served-mode] >> nth=0") == "Exact cache"
    assert page.get_attribute("[data-testid=receipt-charged]", "data-amount") == money.usd(hit["charged_cost_nano_usd"])
    assert "Signed (HMAC-SHA256)" in page.inner_text("[data-testid=signature-status]")
    assert page.inner_text("[data-testid=signature]") == api["signature"]

    # The downloaded receipt verifies offline, as `nextmodel receipts verify` would check it.
    with page.expect_download() as downloaded:
        page.click("[data-testid=download-receipt]")
    saved = tmp_path / downloaded.value.suggested_filename
    downloaded.value.save_as(saved)
    assert verify(receipt_from_dict(json.loads(saved.read_text())), RECEIPT_SECRET.encode())
    dashboard.shot("05-receipt-exact-cache-en")
    dashboard.language("ar")
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.inner_text("[data-testid=served-mode] >> nth=0") == "ذاكرة مطابقة"
    dashboard.shot("05-receipt-exact-cache-ar")
    dashboard.language("en")

    replayed = hit["replayed_receipt_id"]
    assert replayed and page.get_attribute("[data-testid=replayed-link]", "href") == f"#/receipts/{replayed}"
    dashboard.click("[data-testid=replayed-link]")
    assert page.url.endswith(f"#/receipts/{replayed}")
    assert page.inner_text("[data-testid=served-mode] >> nth=0") == "Fresh"
    assert page.get_attribute("[data-testid=receipt-fields] tr[data-field=id]", "data-value") == replayed
    fresh = next(r for r in traffic.a_receipts if r["id"] == replayed)
    assert fresh["served_mode"] == "fresh"
    assert page.get_attribute("[data-testid=receipt-charged]", "data-amount") == money.usd(fresh["charged_cost_nano_usd"])
    assert page.locator("[data-testid=receipt-attempts] tbody tr").count() == len(fresh["attempts"])
    dashboard.shot("05-receipt-fresh-en")
    dashboard.language("ar")
    dashboard.shot("05-receipt-fresh-ar")


def test_a_project_key_cannot_see_another_projects_data(dashboard: Dashboard, traffic: Traffic) -> None:
    page = dashboard.page
    dashboard.open()
    dashboard.sign_in(traffic.b.key)
    b_fresh = Traffic.nano(traffic.b_receipts, "fresh")
    assert dashboard.kpi("kpi-fresh").get_attribute("data-amount") == money.usd(b_fresh)
    assert dashboard.kpi("kpi-exact-cache").get_attribute("data-amount") == money.usd(0)
    assert dashboard.kpi("kpi-requests").get_attribute("data-requests") == "1"
    assert page.eval_on_selector_all("[data-testid=top-projects] tbody tr", "rows => rows.map(r => r.dataset.group)") \
        == [traffic.b.project_id]

    dashboard.go("#/usage?group_by=project")
    groups = page.eval_on_selector_all("[data-testid=usage-table] tbody tr[data-group]", "rows => rows.map(r => r.dataset.group)")
    assert groups == [traffic.b.project_id]
    # Asking for the other project's usage by its id gives nothing of it.
    dashboard.go(f"#/usage?group_by=project&project_id={traffic.a.project_id}")
    assert page.locator("[data-testid=usage-not-found]").is_visible()
    assert page.locator("[data-testid=usage-table]").count() == 0
    assert traffic.a.project_id not in page.inner_text(".view")

    dashboard.go("#/receipts")
    listed = page.eval_on_selector_all("[data-testid=recent-receipts] tbody tr", "rows => rows.map(r => r.dataset.receiptId)")
    assert listed == [traffic.b_receipts[0]["id"]]
    other = traffic.hit()["id"]
    dashboard.go(f"#/receipts/{other}")
    assert page.locator("[data-testid=receipt-not-found]").is_visible()
    assert page.locator("[data-testid=receipt-fields]").count() == 0
    assert traffic.a.project_id not in page.inner_text(".view")
    dashboard.shot("08-other-projects-receipt-en")
    dashboard.language("ar")
    assert page.locator("[data-testid=receipt-not-found]").inner_text().startswith("لا يوجد إيصال")
    dashboard.shot("08-other-projects-receipt-ar")

    dashboard.go("#/admin")
    assert page.locator("[data-testid=admin-only]").is_visible()


def test_usage_explorer_groups_filters_and_downloads_the_export(dashboard: Dashboard, traffic: Traffic,
                                                                tmp_path: Path) -> None:
    page = dashboard.page
    dashboard.open()
    dashboard.sign_in(traffic.a.key)
    dashboard.click("[data-testid=nav-usage]")
    page.select_option("[data-testid=filter-group-by]", "served_mode")
    dashboard.click("[data-testid=apply-filters]")
    amounts = dict(page.eval_on_selector_all("[data-testid=usage-table] tbody tr[data-group]",
                                             "rows => rows.map(r => [r.dataset.group, r.querySelector('[data-amount]').dataset.amount])"))
    assert amounts == {"fresh": money.usd(Traffic.nano(traffic.a_receipts, "fresh")),
                       "exact_cache": money.usd(Traffic.nano(traffic.a_receipts, "exact_cache"))}

    page.select_option("[data-testid=filter-group-by]", "tag")
    page.fill("[data-testid=filter-tag-name]", "feature")
    page.select_option("[data-testid=filter-served-mode]", "fresh")
    dashboard.click("[data-testid=apply-filters]")
    rows = page.eval_on_selector_all("[data-testid=usage-table] tbody tr[data-group]", "rows => rows.map(r => r.dataset.group)")
    assert rows == ["search"]
    total = page.get_attribute("[data-testid=usage-table] tr[data-total] [data-amount]", "data-amount")
    assert total == money.usd(Traffic.nano(traffic.a_receipts, "fresh"))

    with page.expect_download() as downloaded:
        page.click("[data-testid=download-csv]")
    path = tmp_path / "usage.csv"
    downloaded.value.save_as(path)
    exported = list(csv.DictReader(io.StringIO(path.read_text())))
    assert sorted(row["id"] for row in exported) == sorted(r["id"] for r in traffic.a_receipts if r["served_mode"] == "fresh")

    page.select_option("[data-testid=filter-group-by]", "model")
    page.select_option("[data-testid=filter-served-mode]", "")
    dashboard.click("[data-testid=apply-filters]")
    models = page.eval_on_selector_all("[data-testid=usage-table] tbody tr[data-group]", "rows => rows.map(r => r.dataset.group)")
    assert sorted(models) == ["deepseek-chat", "gpt-4o-mini"]
    dashboard.shot("03-usage-en")
    dashboard.language("ar")
    assert page.get_attribute("html", "dir") == "rtl"
    dashboard.shot("03-usage-ar")


def test_catalog_compares_models_side_by_side_with_the_quote_tool(dashboard: Dashboard, traffic: Traffic,
                                                                  stack: Stack) -> None:
    page = dashboard.page
    models = {m["id"]: m for m in httpx.get(f"{stack.base_url}/models",
                                            headers={"authorization": f"Bearer {traffic.a.key}"}).json()["data"]}
    dashboard.open()
    dashboard.sign_in(traffic.a.key)
    dashboard.click("[data-testid=nav-catalog]")
    assert page.locator("[data-testid=catalog-table] tbody tr").count() == len(models)
    dashboard.click("[data-testid=catalog-table] tr[data-model='gpt-4o-mini'] [data-testid=compare-toggle]")
    dashboard.click("[data-testid=catalog-table] tr[data-model='claude-haiku-4-5'] [data-testid=compare-toggle]")
    compared = page.eval_on_selector_all("[data-testid=compare-table] thead th[data-model]", "cells => cells.map(c => c.dataset.model)")
    assert compared == ["gpt-4o-mini", "claude-haiku-4-5"]
    table = page.inner_text("[data-testid=compare-table]")
    for model in compared:
        assert f"${Decimal(models[model]['pricing']['input']):.2f}" in table

    # The filter narrows the list (and keeps the screenshot short); the comparison stays.
    page.fill("[data-testid=catalog-filter]", "gpt-4")
    before = dashboard.generation()
    page.press("[data-testid=catalog-filter]", "Enter")
    dashboard.wait_newer(before)
    listed = page.eval_on_selector_all("[data-testid=catalog-table] tbody tr", "rows => rows.map(r => r.dataset.model)")
    assert listed and all("gpt-4" in model for model in listed)
    assert page.locator("[data-testid=compare-table] thead th[data-model]").count() == 2

    # The quote tool asks POST /v1/quote for the chosen models and shows the gateway's amounts.
    page.fill("[data-testid=quote-prompt]", QUESTIONS[0])
    page.fill("input[name=completion_tokens]", "200")
    page.click("[data-testid=quote-submit]")
    page.wait_for_selector("[data-testid=quote-table], [data-testid=quote-unavailable], [data-testid=quote-error]")
    assert page.locator("[data-testid=quote-error]").count() == 0
    quote = httpx.post(f"{stack.base_url}/quote", headers={"authorization": f"Bearer {traffic.a.key}"}, json={
        "models": compared, "currency": "USD", "completion_tokens": 200,
        "request": {"messages": [{"role": "user", "content": QUESTIONS[0]}]}})
    if quote.status_code == 404:  # a gateway without the quote endpoint: the page says so
        assert page.locator("[data-testid=quote-unavailable]").is_visible()
    else:
        assert quote.status_code == 200, quote.text
        amounts = dict(page.eval_on_selector_all(
            "[data-testid=quote-table] tbody tr", "rows => rows.map(r => [r.dataset.model, r.querySelector('[data-amount]').dataset.amount])"))
        assert amounts == {row["model"]: row["fresh_cost_usd"] for row in quote.json()["data"]}
        assert set(amounts) == set(compared)
    dashboard.shot("06-catalog-en")
    dashboard.language("ar")
    assert page.get_attribute("html", "dir") == "rtl"
    dashboard.shot("06-catalog-ar")


def test_admin_sees_every_project_and_manages_keys_and_budgets(dashboard: Dashboard, traffic: Traffic,
                                                               stack: Stack) -> None:
    page = dashboard.page
    dashboard.open()
    dashboard.sign_in(stack.admin_key)
    assert page.get_attribute("[data-testid=who]", "data-role") == "admin"
    dashboard.go(f"#/usage?group_by=project&project_id={traffic.a.project_id}")
    assert page.get_attribute("[data-testid=usage-table] tr[data-total] [data-amount]", "data-amount") == money.usd(
        sum(r["charged_cost_nano_usd"] for r in traffic.a_receipts))
    dashboard.go(f"#/usage?group_by=project&project_id={traffic.b.project_id}")
    assert page.get_attribute("[data-testid=usage-table] tr[data-total] [data-amount]", "data-amount") == money.usd(
        sum(r["charged_cost_nano_usd"] for r in traffic.b_receipts))
    dashboard.go("#/usage?group_by=project")
    groups = page.eval_on_selector_all("[data-testid=usage-table] tbody tr[data-group]", "rows => rows.map(r => r.dataset.group)")
    assert {traffic.a.project_id, traffic.b.project_id} <= set(groups)
    # The admin may open any project's receipt.
    dashboard.go(f"#/receipts/{traffic.hit()['id']}")
    assert page.get_attribute("[data-testid=receipt-fields] tr[data-field=project_id]", "data-value") == traffic.a.project_id

    dashboard.go(f"#/admin?project={traffic.a.project_id}")
    gauge = page.locator(f"[data-testid=budget-gauge][data-budget-id='{traffic.budget_id}']")
    spent = sum(r["charged_cost_nano_usd"] for r in traffic.a_receipts)
    assert gauge.get_attribute("data-used-bps") == str(spent * 10_000 // 50_000)
    keys = page.eval_on_selector_all("[data-testid=admin-keys] tbody tr", "rows => rows.map(r => r.dataset.keyId)")
    assert keys == [traffic.a.key_id]
    page.fill("[data-testid=create-key] input[name=name]", "dashboard test")
    page.click("[data-testid=create-key] button[type=submit]")
    secret = page.inner_text("[data-testid=new-key-secret]")
    answer = httpx.get(f"{stack.base_url}/usage", headers={"authorization": f"Bearer {secret}"})
    assert answer.status_code == 200 and answer.json()["total"]["requests"] == 5, "the new key reads project A"
    dashboard.go(f"#/admin?project={traffic.b.project_id}")
    dashboard.shot("07-admin-en")
    dashboard.language("ar")
    assert page.get_attribute("html", "dir") == "rtl"
    dashboard.shot("07-admin-ar")
    dashboard.go("#/overview")
    assert page.locator("[data-testid=budget-gauges]").is_visible()
    dashboard.shot("02-overview-admin-ar")
    dashboard.language("en")
    dashboard.shot("02-overview-admin-en")
