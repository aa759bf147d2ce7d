"""Regenerate the Python code for every contract in protos/.

Usage: python scripts/gen_protos.py [OUT_DIR]   (default: protos/, in place)

The drift test runs this into a temporary folder and compares the result with the
committed files, so a contract change without regenerated code fails the suite.
"""

from __future__ import annotations

import sys
from pathlib import Path

import grpc_tools
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"


def proto_files() -> list[Path]:
    return sorted(PROTOS.glob("nextmodel/*/v1/*.proto"))


def generate(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    include = Path(grpc_tools.__file__).parent / "_proto"
    files = [str(p.relative_to(PROTOS)) for p in proto_files()]
    code = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{PROTOS}",
            f"-I{include}",
            f"--python_out={out_dir}",
            f"--pyi_out={out_dir}",
            f"--grpc_python_out={out_dir}",
            *files,
        ]
    )
    if code != 0:
        raise SystemExit(f"protoc failed with exit code {code}")
    # Make every generated folder a regular package.
    for folder in {out_dir / Path(f).parent for f in files}:
        while folder != out_dir:
            (folder / "__init__.py").touch()
            folder = folder.parent
    return sorted(p for p in out_dir.rglob("*") if p.suffix in {".py", ".pyi"})


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else PROTOS
    for path in generate(target):
        print(path.relative_to(target))
