"""The README's Python, Node and curl examples run against the real stack, so the docs cannot drift."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import IN_CI

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
NODE_DIR = ROOT / "tests" / "readme"


def examples(language: str) -> list[str]:
    found = re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)
    assert found, f"the README has no {language} example"
    return found


def run(command: list[str], stack, cwd: Path = ROOT) -> str:
    code = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "NEXTMODEL_API_KEY": stack.dev_key})
    assert code.returncode == 0, code.stderr + code.stdout
    return code.stdout


def local(snippet: str, stack) -> str:
    """The README talks to the default port; the test stack runs on a free one."""
    return snippet.replace("http://127.0.0.1:8080", stack.edge_url)


@pytest.mark.parametrize("index", range(len(examples("python"))))
def test_python_examples(stack, index) -> None:
    out = run([sys.executable, "-c", local(examples("python")[index], stack)], stack)
    assert "echo:" in out and "fresh" in out


@pytest.mark.parametrize("index", range(len(examples("js"))))
def test_node_examples(stack, index) -> None:
    if not shutil.which("node") or not (NODE_DIR / "node_modules" / "openai").exists():
        message = "Node.js and tests/readme/node_modules are needed (make test installs them with npm)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    script = NODE_DIR / f"_example_{index}.mjs"
    script.write_text(local(examples("js")[index], stack), encoding="utf-8")
    try:
        out = run(["node", str(script)], stack, cwd=NODE_DIR)
    finally:
        script.unlink()
    assert "echo:" in out and "fresh" in out


CURL_EXAMPLES = [block for block in examples("sh") if block.lstrip().startswith("curl")]


@pytest.mark.parametrize("index", range(len(CURL_EXAMPLES)))
def test_curl_examples(stack, index) -> None:
    snippet = local(CURL_EXAMPLES[index], stack)
    out = run(["bash", "-c", snippet], stack)
    if "stream" in snippet:
        assert out.rstrip().endswith("data: [DONE]")
    else:
        assert json.loads(out)["choices"][0]["message"]["content"].startswith("echo:")
