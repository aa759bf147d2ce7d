"""Domain modules know nothing of gRPC: only a service's servicer, server and clients (the
transport edges) import it, so every business rule can be read and tested without a channel."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVICES = {"router-svc/nextmodel_router": {"servicer.py", "server.py", "clients.py"},
            "billing-svc/nextmodel_billing": {"servicer.py", "server.py"},
            "catalog-svc/nextmodel_catalog": {"servicer.py", "server.py"},
            "cache-svc/nextmodel_cache": {"servicer.py", "server.py"}}
IMPORTS_GRPC = re.compile(r"^\s*(import grpc\b|from grpc\b)", re.MULTILINE)


@pytest.mark.parametrize("package", sorted(SERVICES))
def test_only_the_transport_edges_import_grpc(package: str) -> None:
    offenders = [str(path.relative_to(ROOT)) for path in sorted((ROOT / package).rglob("*.py"))
                 if path.name not in SERVICES[package] and IMPORTS_GRPC.search(path.read_text(encoding="utf-8"))]
    assert offenders == [], f"domain modules importing grpc: {offenders}"
