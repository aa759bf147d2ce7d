"""`nextmodel bench cachesafety`: replay a workload through cache policies and report what each would do.

The `nextmodel` command mounts this with `add_arguments(parser)` and `run(args)`;
`python -m nextmodel_cachesafety` runs the same thing on its own.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import orjson

from nextmodel_cachesafety.bench import BenchSettings, run_bench
from nextmodel_cachesafety.embeddings import EmbeddingModelMissing
from nextmodel_cachesafety.policies import (
    ALIASES,
    DEFAULT_POLICIES,
    DEFAULT_THRESHOLDS,
    REGISTRY,
    PolicyContext,
    PolicySpecError,
    build_policies,
    expand_specs,
    parse_thresholds,
    split_spec,
)
from nextmodel_cachesafety.pricing import DEFAULT_COMPLETION_TOKENS, PriceBook
from nextmodel_cachesafety.progress import Progress
from nextmodel_cachesafety.report import render_tables, report_json
from nextmodel_cachesafety.workload import WorkloadError, builtin_workload_path, load_workload
from nextmodel_catalog.config import DEFAULT_SEED
from nextmodel_catalog.domain import SeedError

REPORT_FILE = "report.json"
CHART_FILE = "savings_vs_bad_hits.png"
USAGE_ERROR = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = BenchSettings()
    parser.add_argument("--workload", type=Path, metavar="FILE",
                        help="JSONL workload, one request a line (default: the built-in benchmark workload)")
    parser.add_argument("--policies", nargs="+", metavar="POLICY",
                        help=f"policies to compare (default: {' '.join(DEFAULT_POLICIES)}); "
                             "'semantic' means both semantic kinds; 'KIND@0.92' pins one threshold; "
                             "--list-policies shows them all")
    parser.add_argument("--thresholds", metavar="LIST",
                        help="similarity thresholds for semantic policies given without '@': "
                             "'0.85,0.9' or 'start:stop:step' (default: "
                             f"{','.join(f'{t:.2f}' for t in DEFAULT_THRESHOLDS)})")
    parser.add_argument("--out", type=Path, default=Path("cachesafety-report"), metavar="DIR",
                        help=f"where {REPORT_FILE} and {CHART_FILE} go (default: ./cachesafety-report)")
    parser.add_argument("--discount-bps", type=int, default=defaults.discount_bps, metavar="BPS",
                        help="cache discount on hits in basis points (default: %(default)s, i.e. hits at half price)")
    parser.add_argument("--completion-tokens", type=int, default=defaults.default_completion_tokens, metavar="N",
                        help="completion tokens of a request that gives neither completion_tokens nor max_tokens "
                             f"(default: {DEFAULT_COMPLETION_TOKENS})")
    parser.add_argument("--catalog", type=Path, default=DEFAULT_SEED, metavar="SEED_YAML",
                        help="catalog seed with the prices (default: the catalog service's seed)")
    parser.add_argument("--no-chart", action="store_true", help="skip the PNG chart")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.add_argument("--list-policies", action="store_true", help="list the registered policies and exit")


def run(args: argparse.Namespace) -> int:
    if args.list_policies:
        for kind, registered in REGISTRY.items():
            print(f"{kind:16} {registered.description}")
        for alias, kinds in ALIASES.items():
            print(f"{alias:16} = {' + '.join(kinds)}")
        return 0
    if not 0 <= args.discount_bps <= 10_000:
        return _usage_error("--discount-bps must be between 0 and 10000")
    if args.completion_tokens < 0:
        return _usage_error("--completion-tokens must be >= 0")
    started = time.perf_counter()
    progress = Progress(enabled=not args.quiet)

    workload_path = args.workload or builtin_workload_path()
    try:
        requests = load_workload(workload_path)
        prices = PriceBook.from_seed(args.catalog)
        thresholds = parse_thresholds(args.thresholds) if args.thresholds else DEFAULT_THRESHOLDS
        context = PolicyContext(thresholds=thresholds)
        specs = list(args.policies or DEFAULT_POLICIES)
        try:
            policies = build_policies(specs, context)
        except EmbeddingModelMissing as missing:
            if args.policies:  # asked for by name: say so rather than quietly run something else
                return _usage_error(str(missing))
            specs = [spec for spec in expand_specs(specs) if not REGISTRY[split_spec(spec)[0]].needs_embeddings]
            progress.note(f"skipping the semantic policies: {missing}")
            policies = build_policies(specs, context)
    except (OSError, WorkloadError, SeedError, PolicySpecError) as bad:
        return _usage_error(str(bad))
    if not requests:
        return _usage_error(f"{workload_path}: the workload has no requests")

    result = run_bench(
        requests, policies, prices,
        BenchSettings(discount_bps=args.discount_bps, default_completion_tokens=args.completion_tokens),
        progress, source=str(workload_path) if args.workload else "built-in workload",
        embedding_model=context.embedding_model,
    )
    print(render_tables(result))

    args.out.mkdir(parents=True, exist_ok=True)
    report_path = args.out / REPORT_FILE
    report_path.write_bytes(orjson.dumps(report_json(result), option=orjson.OPT_INDENT_2) + b"\n")
    print(f"\nreport: {report_path}")
    if not args.no_chart:
        from nextmodel_cachesafety.chart import ChartUnavailable, save_chart

        try:
            print(f"chart:  {save_chart(result, args.out / CHART_FILE)}")
        except ChartUnavailable as unavailable:
            print(f"chart:  not drawn ({unavailable})")
    print(f"took {time.perf_counter() - started:.1f}s")
    return 0


def _usage_error(message: str) -> int:
    print(f"nextmodel bench cachesafety: {message}", file=sys.stderr)
    return USAGE_ERROR


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nextmodel_cachesafety",
        description="CacheSafety Bench: replay a workload through cache policies; report safe and bad hits, "
                    "trap failures and savings.",
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))
