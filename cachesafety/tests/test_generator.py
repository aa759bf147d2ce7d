"""The built-in workload: reproducible from the packaged data, labelled consistently, credited."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import orjson
import pytest

from nextmodel_cachesafety import builtin_asks, generate
from nextmodel_cachesafety.workload import builtin_workload_path, load_workload

PACKAGE_DATA = Path(generate.__file__).with_name("data")
SPEC_FAMILIES = {"repeat", "paraphrase", "number_change", "negation", "entity_swap", "language_change",
                 "arabic_diacritics", "case_change", "whitespace_code", "system_prompt_change", "param_change",
                 "model_change", "cross_tenant"}


def test_the_committed_workload_is_what_the_generator_makes() -> None:
    regenerated = generate.to_jsonl(generate.generate(generate.read_packaged_sources()))
    assert regenerated == builtin_workload_path().read_bytes(), (
        "data/workload.jsonl is stale: run `python -m nextmodel_cachesafety.generate`")


def test_the_workload_covers_every_family_in_both_languages() -> None:
    requests = load_workload(builtin_workload_path())
    families = Counter(request.family for request in requests)
    assert set(families) >= SPEC_FAMILIES
    assert {request.language for request in requests} == {"en", "ar"}
    assert {request.family for request in requests if request.language == "ar"} >= {
        "arabic_diacritics", "negation", "number_change", "paraphrase", "entity_swap"}
    assert 0.15 < families["repeat"] / len(requests) < 0.22  # a realistic share of exact repeats
    assert all(request.answer_class and request.completion_tokens for request in requests)
    assert len({request.tenant for request in requests}) == 3


def test_requests_production_treats_as_one_carry_one_answer_class() -> None:
    records = [orjson.loads(line) for line in builtin_workload_path().read_bytes().splitlines()]
    generate.check_consistency(records)
    twin = {**records[0], "id": "twin", "answer_class": records[0]["answer_class"] + "-other"}
    with pytest.raises(generate.GeneratorError, match="same request with different answer classes"):
        generate.check_consistency([records[0], twin])


def test_the_packaged_subset_is_the_head_of_the_full_data(shared_data: Path) -> None:
    full = generate.read_full_sources(shared_data)
    packaged = generate.read_packaged_sources()
    assert packaged.paws_paraphrase == full.paws_paraphrase[: len(packaged.paws_paraphrase)]
    assert packaged.paws_different == full.paws_different[: len(packaged.paws_different)]
    assert packaged.gptcache == full.gptcache[: len(packaged.gptcache)]
    # ...so the full files give the very same default workload.
    assert generate.to_jsonl(generate.generate(full)) == builtin_workload_path().read_bytes()


def test_packaged_rows_are_verbatim_copies(shared_data: Path) -> None:
    full_rows = set()
    for split, name in generate.PAWS_FULL_FILES:
        full_rows |= {f"{split}\t{line}" for line in (shared_data / name).read_text(encoding="utf-8").splitlines()}
    for line in (PACKAGE_DATA / "sources" / generate.PAWS_SUBSET_FILE).read_text(encoding="utf-8").splitlines():
        assert line in full_rows
    original = orjson.loads((shared_data / generate.GPTCACHE_FULL_FILE).read_bytes())
    for pair in orjson.loads((PACKAGE_DATA / "sources" / generate.GPTCACHE_SUBSET_FILE).read_bytes()):
        assert original[pair["index"]] == {"origin": pair["origin"], "similar": pair["similar"]}


def test_sources_are_credited_and_the_package_data_is_small() -> None:
    sources = PACKAGE_DATA / "sources"
    for name in ("LICENSE.PAWS.txt", "LICENSE.GPTCache-MIT.txt", "PROVENANCE.md"):
        assert (sources / name).stat().st_size > 0
    provenance = (sources / "PROVENANCE.md").read_text(encoding="utf-8")
    assert "PAWS" in provenance and "GPTCache" in provenance and "Google" in provenance
    total = sum(path.stat().st_size for path in PACKAGE_DATA.rglob("*") if path.is_file())
    assert total < 700_000


def test_diacritic_traps_differ_only_in_their_marks() -> None:
    marks = re.compile("[\u064b-\u0652]")
    for _, words in builtin_asks.DIACRITIC_WORDS:
        vocalised = [word for word, _ in words]
        assert len(set(vocalised)) == len(vocalised)
        assert len({marks.sub("", word) for word in vocalised}) == 1, vocalised


def test_the_generator_is_deterministic_and_seeded() -> None:
    sources = generate.read_packaged_sources()
    small = generate.Mix(gptcache_pairs=5, gptcache_singles=2, paws_paraphrase_pairs=5, paws_singles=2,
                         paws_different_pairs=5)
    first = generate.generate(sources, seed=7, mix=small)
    assert first == generate.generate(sources, seed=7, mix=small)
    assert first != generate.generate(sources, seed=8, mix=small)
    with pytest.raises(generate.GeneratorError, match="pass --source"):
        generate.generate(sources, mix=generate.Mix(gptcache_pairs=1000))
