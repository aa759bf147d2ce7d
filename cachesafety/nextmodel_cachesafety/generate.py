"""The generator of the built-in benchmark workload (data/workload.jsonl), fixed seed, reproducible.

Sources: labelled paraphrase data (PAWS-Wiki, Google; GPTCache's benchmark pairs, Zilliz) from the
subset packaged in data/sources/ (or the full files when --source names their folder), plus the
hand-written English and Arabic requests and traps of builtin_asks.py. Requests are grouped: the
first of a group is an `original`, the others share its tenant, model and system prompt but change
one thing (the family). Repeats, ignored-field variants, reformatted copies and cross-tenant copies
are then added at realistic rates, and everything is shuffled onto one timeline.

    python -m nextmodel_cachesafety.generate                 # rewrite data/workload.jsonl
    python -m nextmodel_cachesafety.generate --check         # fail if it differs from the committed one
    python -m nextmodel_cachesafety.generate --extract-subset DIR   # DIR: the full PAWS and GPTCache files
"""

from __future__ import annotations

import argparse
import hashlib
import math
import random
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import orjson

from nextmodel_cache import keys as production_keys
from nextmodel_cachesafety import builtin_asks as asks
from nextmodel_cachesafety.families import NO_SYSTEM, Ask, Group, own_groups
from nextmodel_cachesafety.workload import builtin_workload_path

DEFAULT_SEED = 20260601
PAWS_FULL_FILES = (("dev", "paws_wiki_labeled_final_dev.tsv"), ("test", "paws_wiki_labeled_final_test.tsv"))
GPTCACHE_FULL_FILE = "gptcache_mock_data_paraphrase_pairs.json"
PAWS_SUBSET_FILE = "paws_subset.tsv"
GPTCACHE_SUBSET_FILE = "gptcache_subset.json"
# How much of each source the packaged subset keeps: what the default workload uses, plus headroom.
SUBSET_SIZES = {"paws_paraphrase": 100, "paws_different": 100, "gptcache": 140}
MAX_SOURCE_CHARS = 160  # short sentences keep the package small and the embedding pass fast


class GeneratorError(RuntimeError):
    pass


# --- source data --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PawsPair:
    split: str
    id: str
    sentence1: str
    sentence2: str
    label: str  # "1": paraphrases; "0": the same words with another meaning

    def row(self) -> list[str]:
        return [self.split, self.id, self.sentence1, self.sentence2, self.label]


@dataclass(frozen=True)
class GptCachePair:
    index: int  # position in GPTCache's examples/benchmark/mock_data.json
    origin: str
    similar: str


@dataclass(frozen=True)
class Sources:
    paws_paraphrase: tuple[PawsPair, ...]
    paws_different: tuple[PawsPair, ...]
    gptcache: tuple[GptCachePair, ...]


def packaged_sources_dir() -> Path:
    return Path(str(resources.files("nextmodel_cachesafety") / "data" / "sources"))


def _fold(text: str) -> str:
    return re.sub(r"\W+", " ", text.casefold()).strip()


def select_sources(paws: Sequence[PawsPair], gptcache: Sequence[GptCachePair], seed: int = DEFAULT_SEED,
                   sizes: dict[str, int] | None = None) -> Sources:
    """The candidate pairs in the order the generator takes them: filtered, de-duplicated, seeded shuffle.

    The packaged subset is the head of this order, so a workload generated from the full files and one
    generated from the subset are the same as long as it asks for no more than the subset holds.
    """
    rng = random.Random(seed)
    used: set[str] = set()  # a sentence used in two pairs would carry two answer classes

    def fresh(*texts: str) -> bool:
        folded = [_fold(text) for text in texts]
        if any(text in used for text in folded) or len(set(folded)) < len(folded):
            return False
        used.update(folded)
        return True

    short_paws = sorted((pair for pair in paws
                         if len(pair.sentence1) <= MAX_SOURCE_CHARS and len(pair.sentence2) <= MAX_SOURCE_CHARS),
                        key=lambda pair: (pair.split, int(pair.id)))
    rng.shuffle(short_paws)
    kept_paws = [pair for pair in short_paws if fresh(pair.sentence1, pair.sentence2)]

    short_gptcache = sorted((pair for pair in gptcache
                             if len(pair.origin) <= MAX_SOURCE_CHARS and len(pair.similar) <= MAX_SOURCE_CHARS
                             and "\n" not in pair.origin + pair.similar), key=lambda pair: pair.index)
    rng.shuffle(short_gptcache)
    # GPTCache's file repeats many origins almost word for word; keep one of each opening.
    openings: set[str] = set()
    kept_gptcache = []
    for pair in short_gptcache:
        opening = _fold(pair.origin)[:40]
        if opening not in openings and fresh(pair.origin, pair.similar):
            openings.add(opening)
            kept_gptcache.append(pair)

    sizes = sizes or {}
    paraphrase = [pair for pair in kept_paws if pair.label == "1"]
    different = [pair for pair in kept_paws if pair.label == "0"]
    return Sources(
        paws_paraphrase=tuple(paraphrase[: sizes.get("paws_paraphrase", len(paraphrase))]),
        paws_different=tuple(different[: sizes.get("paws_different", len(different))]),
        gptcache=tuple(kept_gptcache[: sizes.get("gptcache", len(kept_gptcache))]),
    )


def read_full_sources(folder: Path, seed: int = DEFAULT_SEED) -> Sources:
    """The full PAWS-Wiki and GPTCache files as shipped in the shared data folder."""
    paws: list[PawsPair] = []
    for split, name in PAWS_FULL_FILES:
        for row in _tsv_rows((folder / name).read_text(encoding="utf-8")):
            paws.append(PawsPair(split, *row[:4]))
    raw = orjson.loads((folder / GPTCACHE_FULL_FILE).read_bytes())
    gptcache = [GptCachePair(index, pair["origin"], pair["similar"]) for index, pair in enumerate(raw)]
    return select_sources(paws, gptcache, seed)


def read_packaged_sources(folder: Path | None = None) -> Sources:
    folder = folder or packaged_sources_dir()
    pairs = [PawsPair(*row[:5]) for row in _tsv_rows((folder / PAWS_SUBSET_FILE).read_text(encoding="utf-8"))]
    gptcache = tuple(GptCachePair(item["index"], item["origin"], item["similar"])
                     for item in orjson.loads((folder / GPTCACHE_SUBSET_FILE).read_bytes()))
    return Sources(
        paws_paraphrase=tuple(pair for pair in pairs if pair.label == "1"),
        paws_different=tuple(pair for pair in pairs if pair.label == "0"),
        gptcache=gptcache,
    )


def write_packaged_sources(full: Sources, folder: Path) -> None:
    """Keep the head of each source (see select_sources), rows verbatim, in the order the generator reads."""
    subset = Sources(
        paws_paraphrase=full.paws_paraphrase[: SUBSET_SIZES["paws_paraphrase"]],
        paws_different=full.paws_different[: SUBSET_SIZES["paws_different"]],
        gptcache=full.gptcache[: SUBSET_SIZES["gptcache"]],
    )
    rows = ("\t".join(pair.row()) + "\n" for pair in (*subset.paws_paraphrase, *subset.paws_different))
    (folder / PAWS_SUBSET_FILE).write_text("".join(rows), encoding="utf-8")
    items = [{"index": pair.index, "origin": pair.origin, "similar": pair.similar} for pair in subset.gptcache]
    (folder / GPTCACHE_SUBSET_FILE).write_bytes(orjson.dumps(items, option=orjson.OPT_INDENT_2) + b"\n")


def _tsv_rows(text: str) -> list[list[str]]:
    # PAWS has quotes inside sentences and no quoting: split on tabs, nothing else.
    return [line.split("\t") for line in text.splitlines() if line.strip()]


# --- requests before they are placed ------------------------------------------------------------

@dataclass
class Draft:
    tenant: str
    body: dict
    answer_class: str
    family: str
    language: str
    source: str
    time: float
    prose: bool
    has_system: bool
    completion_tokens: int = 0


@dataclass(frozen=True)
class Mix:
    """How the built-in workload is put together. Shares are of the final number of lines."""

    gptcache_pairs: int = 80
    gptcache_singles: int = 30
    paws_paraphrase_pairs: int = 60
    paws_singles: int = 20
    paws_different_pairs: int = 80
    repeat_share: float = 0.18  # exact repeats of an earlier request (same tenant, same body)
    ignored_field_share: float = 0.02
    reformatted_share: float = 0.03
    cross_tenant_share: float = 0.03
    tenant_system_prompt: float = 0.3  # groups that carry their tenant's usual system prompt
    popularity_exponent: float = 0.8  # Zipf: a few requests are repeated many times, most never


def _detokenize(sentence: str) -> str:
    """PAWS is tokenized ("word , word ."); a user would type "word, word." Meaning is untouched."""
    text = sentence.replace("`` ", '"').replace(" ''", '"')
    text = re.sub(r" ([,.;:!?%)])", r"\1", text)
    text = re.sub(r"([(]) ", r"\1", text)
    return re.sub(r" (['’]s)\b", r"\1", text)


PAWS_TASKS = (
    ("raw", "{s}"),
    ("translate-fr", "Translate into French: {s}"),
    ("plain-english", "Rewrite this sentence in plain English: {s}"),
)


def source_groups(sources: Sources, mix: Mix, rng: random.Random) -> list[Group]:
    needed = {"gptcache": mix.gptcache_pairs + mix.gptcache_singles,
              "paws_paraphrase": mix.paws_paraphrase_pairs + mix.paws_singles,
              "paws_different": mix.paws_different_pairs}
    for name, count in needed.items():
        if len(getattr(sources, name)) < count:
            raise GeneratorError(f"the source data has {len(getattr(sources, name))} {name} pairs; "
                                 f"the mix needs {count} (pass --source with the full files)")
    groups: list[Group] = []
    for pair in sources.gptcache[: mix.gptcache_pairs]:
        meaning, source = f"gptcache:{pair.index}", f"gptcache:{pair.index}"
        prose = "`" not in pair.origin + pair.similar
        groups.append(Group("paraphrase", (Ask(pair.origin, meaning, "en", source, prose=prose),
                                           Ask(pair.similar, meaning, "en", source, prose=prose))))
    for pair in sources.gptcache[mix.gptcache_pairs: mix.gptcache_pairs + mix.gptcache_singles]:
        groups.append(Group("original", (Ask(pair.origin, f"gptcache:{pair.index}", "en", f"gptcache:{pair.index}",
                                             prose="`" not in pair.origin),)))

    def paws_ask(pair: PawsPair, sentence: str, meaning: str, task: tuple[str, str]) -> Ask:
        text = task[1].format(s=_detokenize(sentence))
        return Ask(text, f"{meaning}:{task[0]}", "en", f"paws:{pair.split}:{pair.id}")

    for paws in sources.paws_paraphrase[: mix.paws_paraphrase_pairs]:
        task, meaning = rng.choice(PAWS_TASKS), f"paws:{paws.split}:{paws.id}"
        groups.append(Group("paraphrase", (paws_ask(paws, paws.sentence1, meaning, task),
                                           paws_ask(paws, paws.sentence2, meaning, task))))
    singles = sources.paws_paraphrase[mix.paws_paraphrase_pairs: mix.paws_paraphrase_pairs + mix.paws_singles]
    for paws in singles:
        task = rng.choice(PAWS_TASKS)
        groups.append(Group("original", (paws_ask(paws, paws.sentence1, f"paws:{paws.split}:{paws.id}", task),)))
    for paws in sources.paws_different[: mix.paws_different_pairs]:
        task, meaning = rng.choice(PAWS_TASKS), f"paws:{paws.split}:{paws.id}"
        groups.append(Group("word_swap", (paws_ask(paws, paws.sentence1, f"{meaning}:s1", task),
                                          paws_ask(paws, paws.sentence2, f"{meaning}:s2", task))))
    return groups


# --- placing requests on the timeline -----------------------------------------------------------


def _short_hash(value: object) -> str:
    return hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()[:10]


def _weighted(rng: random.Random, choices: Sequence[tuple[str, float]]) -> str:
    return rng.choices([name for name, _ in choices], weights=[weight for _, weight in choices])[0]


def _completion_tokens(seed: int, answer_class: str, body: dict) -> int:
    """One answer length per answer class (a cached answer is the same answer), median about 200 tokens."""
    tokens = int(math.exp(random.Random(f"{seed}:{answer_class}").gauss(5.3, 0.6)))
    tokens = max(20, min(tokens, 1200))
    return min(tokens, body["max_tokens"]) if isinstance(body.get("max_tokens"), int) else tokens


def place_groups(groups: Sequence[Group], mix: Mix, rng: random.Random, seed: int) -> list[Draft]:
    tenant_weights = [(name, weight) for name, weight, _ in asks.TENANTS]
    tenant_systems = {name: system for name, _, system in asks.TENANTS}
    drafts: list[Draft] = []
    for group in groups:
        tenant = _weighted(rng, tenant_weights)
        model = _weighted(rng, asks.MODEL_MIX)
        system = tenant_systems[tenant] if rng.random() < mix.tenant_system_prompt else NO_SYSTEM
        # Parameters many apps set that do not change what the answer says, so not in the answer class.
        usual: dict[str, object] = {}
        if rng.random() < 0.25:
            usual["max_tokens"] = rng.choice((512, 1024, 2048))
        if rng.random() < 0.2:
            usual["temperature"] = 0
        times = sorted(rng.random() for _ in group.asks)
        for position, (ask, time) in enumerate(zip(group.asks, times, strict=True)):
            member_model = ask.model or model
            member_system = system if ask.system is None else ask.system
            messages = [{"role": "system", "content": member_system}] if member_system else []
            messages += [{"role": role, "content": text} for role, text in ask.history]
            messages.append({"role": "user", "content": ask.text})
            params = dict(ask.params)
            body = {"model": member_model, "messages": messages, **usual, **params}
            answer_class = f"{ask.meaning}|{member_model}"
            if member_system:
                answer_class += f"|sys:{_short_hash(member_system)}"
            if params:
                answer_class += f"|params:{_short_hash(params)}"
            drafts.append(Draft(
                tenant=tenant, body=body, answer_class=answer_class,
                family="original" if position == 0 else group.family,
                language=ask.language, source=ask.source, time=time, prose=ask.prose,
                has_system=bool(member_system), completion_tokens=_completion_tokens(seed, answer_class, body),
            ))
    return drafts


IGNORED_FIELD_VARIANTS: tuple[dict, ...] = (
    {"stream": True, "stream_options": {"include_usage": True}},
    {"stream": True},
    {"user": "user-{n}"},
    {"metadata": {"session": "s-{n}"}},
    {"store": False},
)


def _reformat(text: str, language: str, rng: random.Random) -> str:
    """The same question typed differently: lower case (English) or stray spaces and a trailing newline."""
    if language == "en" and rng.random() < 0.5 and text.lower() != text:
        return text.lower()
    words = text.split(" ")
    if len(words) > 2:
        at = rng.randrange(1, len(words))
        words[at] = " " + words[at]
    return " ".join(words) + rng.choice((" ", "\n", "  "))


def add_derived(base: list[Draft], mix: Mix, rng: random.Random) -> list[Draft]:
    base_share = 1 - mix.repeat_share - mix.ignored_field_share - mix.reformatted_share - mix.cross_tenant_share
    total = round(len(base) / base_share)
    derived: list[Draft] = []

    popular = list(base)
    rng.shuffle(popular)
    weights = [1 / (rank + 1) ** mix.popularity_exponent for rank in range(len(popular))]
    for _ in range(round(total * mix.repeat_share)):
        source = rng.choices(popular, weights=weights)[0]
        derived.append(replace(source, family="repeat", time=rng.uniform(source.time, 1.0)))

    for n in range(round(total * mix.ignored_field_share)):
        source = rng.choice(base)
        extra = orjson.loads(orjson.dumps(rng.choice(IGNORED_FIELD_VARIANTS)).replace(b"{n}", str(n).encode()))
        derived.append(replace(source, family="ignored_field", body={**source.body, **extra},
                               time=rng.uniform(source.time, 1.0)))

    prose = [draft for draft in base if draft.prose]
    for _ in range(round(total * mix.reformatted_share)):
        source = rng.choice(prose)
        messages = [dict(message) for message in source.body["messages"]]
        messages[-1]["content"] = _reformat(messages[-1]["content"], source.language, rng)
        derived.append(replace(source, family="reformatted", body={**source.body, "messages": messages},
                               time=rng.uniform(source.time, 1.0)))

    tenants = [name for name, _, _ in asks.TENANTS]
    shareable = [draft for draft in base if not draft.has_system]  # a tenant's system prompt stays its own
    for _ in range(round(total * mix.cross_tenant_share)):
        source = rng.choice(shareable)
        other = rng.choice([tenant for tenant in tenants if tenant != source.tenant])
        derived.append(replace(source, tenant=other, family="cross_tenant", time=rng.uniform(source.time, 1.0)))
    return derived


def check_consistency(records: Sequence[dict]) -> None:
    """Requests production's exact cache would treat as one must deserve one answer, or the labels lie."""
    classes: dict[str, tuple[str, str]] = {}
    for record in records:
        body = record["request"]
        key = production_keys.cache_key(record["tenant"], body["model"], orjson.dumps(body))
        first = classes.setdefault(key, (record["answer_class"], record["id"]))
        if first[0] != record["answer_class"]:
            raise GeneratorError(f"{record['id']} and {first[1]} are the same request with different answer classes "
                                 f"({record['answer_class']} vs {first[0]})")


def generate(sources: Sources, seed: int = DEFAULT_SEED, mix: Mix = Mix()) -> list[dict]:
    rng = random.Random(seed)
    groups = source_groups(sources, mix, rng) + own_groups(rng)
    base = place_groups(groups, mix, rng, seed)
    drafts = base + add_derived(base, mix, rng)
    drafts.sort(key=lambda draft: draft.time)
    width = len(str(len(drafts)))
    records = [{
        "id": f"r{index:0{width}d}",
        "tenant": draft.tenant,
        "family": draft.family,
        "language": draft.language,
        "answer_class": draft.answer_class,
        "completion_tokens": draft.completion_tokens,
        "source": draft.source,
        "request": draft.body,
    } for index, draft in enumerate(drafts, start=1)]
    check_consistency(records)
    return records


def to_jsonl(records: Sequence[dict]) -> bytes:
    return b"".join(orjson.dumps(record) + b"\n" for record in records)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nextmodel_cachesafety.generate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, metavar="DIR",
                        help="read the full PAWS and GPTCache files from DIR instead of the packaged subset")
    parser.add_argument("--out", type=Path, default=builtin_workload_path(), metavar="FILE",
                        help="where to write the workload (default: the package's built-in workload)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if --out differs")
    parser.add_argument("--extract-subset", type=Path, metavar="DIR",
                        help="rewrite the packaged subset from the full files in DIR, then exit")
    args = parser.parse_args(argv)

    if args.extract_subset:
        write_packaged_sources(read_full_sources(args.extract_subset), packaged_sources_dir())
        print(f"wrote the subset to {packaged_sources_dir()}")
        return 0
    sources = read_full_sources(args.source, args.seed) if args.source else read_packaged_sources()
    content = to_jsonl(generate(sources, args.seed))
    if args.check:
        if not args.out.exists() or args.out.read_bytes() != content:
            print(f"{args.out} is not what the generator produces: regenerate it", file=sys.stderr)
            return 1
        return 0
    args.out.write_bytes(content)
    lines = content.count(b"\n")
    print(f"wrote {lines} requests ({len(content)} bytes) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
