"""The committed generated code must match the contracts: regenerate and compare."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _load_generator():
    spec = importlib.util.spec_from_file_location("gen_protos", ROOT / "scripts" / "gen_protos.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_code_matches_the_protos(tmp_path: Path) -> None:
    generated = _load_generator().generate(tmp_path)
    assert generated, "no code was generated"
    fresh = {p.relative_to(tmp_path): p.read_bytes() for p in generated}
    committed = {
        p.relative_to(ROOT / "protos"): p.read_bytes()
        for p in (ROOT / "protos").rglob("*")
        if p.suffix in {".py", ".pyi"}
    }
    stale = sorted(str(path) for path in fresh if committed.get(path) != fresh[path])
    extra = sorted(str(path) for path in set(committed) - set(fresh))
    assert not stale and not extra, (
        f"generated code is out of date (stale: {stale}, no longer generated: {extra}); run `make protos`"
    )


def test_every_service_has_a_versioned_contract() -> None:
    for part in ("router", "cache", "billing", "catalog"):
        protos = list((ROOT / "protos" / "nextmodel" / part / "v1").glob("*.proto"))
        assert protos, f"no contract for {part}"
        assert f"package nextmodel.{part}.v1;" in protos[0].read_text()
