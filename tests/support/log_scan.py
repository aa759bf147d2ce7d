"""The log scan: no service log line written during the test suite may contain key material,
provider keys or message content. It reads every `service-*.log` the stacks kept under the
session's temporary folder and fails the session when one leaks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.stack import ADMIN_KEY, RECEIPT_SECRET

# Secrets the suite hands to the services, and shapes of keys it creates.
SECRETS = [ADMIN_KEY, RECEIPT_SECRET, "test-secret-key-for-provider-keys", "nm-test-" + "k" * 32]
KEY_SHAPES = [
    re.compile(r"nm-[A-Za-z0-9_-]{40,}"),          # a full NextModel API key (keys.generate_key)
    re.compile(r"sk-test-[a-z]+-upstream-secret"),  # the platform provider keys of the tests
    re.compile(r"sk-own-[a-z0-9-]+"),               # projects' own provider keys in the tests
    re.compile(r"sk-from-stdin"),
]
# Message content the tests send (Arabic and English), which must never be logged.
CONTENT = ["مرحبا", "صباح الخير", "ما هي عاصمة المملكة العربية السعودية", "hello there", "Project Falcon",
           "What is the weather in Riyadh", "Say hello in Arabic and English", "one two three four"]


def leaks_in(text: str) -> list[str]:
    found = [f"secret {secret[:12]}..." for secret in SECRETS if secret in text]
    found += [f"key-shaped {m.group(0)[:12]}..." for shape in KEY_SHAPES for m in shape.finditer(text)]
    found += [f"message content {phrase!r}" for phrase in CONTENT if phrase in text]
    return found


def scan_session_logs(session) -> None:
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None:
        return
    logs = sorted(Path(factory.getbasetemp()).rglob("service-*.log"))
    problems = []
    lines = 0
    for path in logs:
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            lines += 1
            for leak in leaks_in(line):
                problems.append(f"{path.name}:{number}: {leak}")
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and logs:
        reporter.write_line(f"log scan: {lines} lines in {len(logs)} service logs, {len(problems)} leaks")
    if problems:
        if reporter is not None:
            reporter.write_line("log scan found secrets or message content in service logs:", red=True)
            for problem in problems[:50]:
                reporter.write_line("  " + problem, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
