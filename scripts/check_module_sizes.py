"""No product module over 500 lines (`make lint`): past that a module holds more than one job.

Product modules are the services', the shared package's, the CLI's and CacheSafety Bench's;
generated code, migrations, tests, benchmark scripts and data files are not counted.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("common", "edge", "router-svc", "cache-svc", "billing-svc", "catalog-svc", "cli", "cachesafety")
LIMIT = 500


def oversized() -> list[tuple[Path, int]]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).parts
            if "tests" in parts or "migrations" in parts or path.name.endswith(("_pb2.py", "_pb2_grpc.py")):
                continue
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > LIMIT:
                found.append((path.relative_to(ROOT), lines))
    return found


def main() -> int:
    found = oversized()
    for path, lines in found:
        print(f"{path}: {lines} lines (at most {LIMIT}); split it by job", file=sys.stderr)
    print(f"module sizes: {'failed' if found else 'ok'}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
