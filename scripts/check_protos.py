"""Lint the contracts and check them for breaking changes with buf (`make lint`).

The breaking check compares protos/ with the last commit on main: on a branch, the commit it
forked from; on main itself, the commit before HEAD. Without git history to compare with (a
shallow clone or an export), it says so and checks lint only.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUF = shutil.which("buf", path=str(Path(sys.executable).parent)) or shutil.which("buf")


def git(*args: str) -> str | None:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else None


def baseline() -> str | None:
    head = git("rev-parse", "HEAD")
    main = git("rev-parse", "--verify", "--quiet", "main") or git("rev-parse", "--verify", "--quiet", "origin/main")
    if head is None or main is None:
        return None
    fork = git("merge-base", "HEAD", main)
    if fork and fork != head:
        return fork
    return git("rev-parse", "--verify", "--quiet", "HEAD~1")


def main() -> int:
    if BUF is None:
        print("buf is not installed: run `make .venv/.installed` (it comes with the dev dependencies)", file=sys.stderr)
        return 1
    failed = subprocess.run([BUF, "lint"], cwd=ROOT / "protos").returncode != 0
    print("proto lint: " + ("failed" if failed else "ok"))
    against = baseline()
    if against is None:
        print("proto breaking check skipped: no git history to compare with")
    elif git("cat-file", "-e", f"{against}:protos") is None:
        print(f"proto breaking check skipped: {against[:12]} has no protos/")
    else:
        broken = subprocess.run([BUF, "breaking", "protos", "--against", f".git#ref={against},subdir=protos"],
                                cwd=ROOT).returncode != 0
        print(f"proto breaking check against {against[:12]}: {'failed' if broken else 'ok'}")
        failed |= broken
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
