"""Audit the locked dependency tree (constraints.txt) for known vulnerabilities with pip-audit.

Exit 1 when a vulnerability is found. When the vulnerability service cannot be reached
(machines whose network reaches only package registries), say so and exit 0: the audit
could not run, which is reported, not hidden.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNREACHABLE = ("Failed to resolve", "Max retries exceeded", "Connection refused", "Name or service not known")


def main() -> int:
    run = subprocess.run([sys.executable, "-m", "pip_audit", "-r", str(ROOT / "constraints.txt"), "--no-deps",
                          "--disable-pip", "--progress-spinner", "off"], capture_output=True, text=True, timeout=600)
    output = run.stdout + run.stderr
    if "Found" in output and "known vulnerabilit" in output:
        print(output)
        return 1
    skipped = output.count("could not be audited")
    pinned = sum(1 for line in (ROOT / "constraints.txt").read_text().splitlines() if "==" in line)
    if skipped or any(sign in output for sign in UNREACHABLE):
        print(f"pip-audit: {skipped} of {pinned} pinned packages could not be looked up (the vulnerability "
              "service is not reachable from this machine); the audit did not run. Run `make audit` where "
              "PyPI's JSON API or OSV is reachable.")
        return 0
    print(output.strip())
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
