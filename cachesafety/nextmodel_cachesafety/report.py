"""The bench's results as a JSON report (for machines and the dashboard) and as terminal tables."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from nextmodel_cachesafety.bench import BenchResult
from nextmodel_cachesafety.metrics import FamilyResult, PolicyResult, Rate
from nextmodel_common import money

REPORT_FORMAT = "nextmodel.cachesafety.report"
REPORT_VERSION = 1


def _money(nano: int) -> dict:
    return {"nano_usd": nano, "usd": money.usd(nano)}


def _rate(rate: Rate | None) -> dict | None:
    return rate.as_json() if rate is not None else None


def policy_json(result: PolicyResult) -> dict:
    return {
        "name": result.name,
        "kind": result.kind,
        "threshold": result.threshold,
        "requests": result.requests,
        "hits": result.hits,
        "hit_rate": _rate(result.hit_rate),
        "safe_hits": result.safe_hits if result.labelled else None,
        "bad_hits": result.bad_hits if result.labelled else None,
        "unjudged_hits": result.unjudged_hits,
        "not_cacheable": result.not_cacheable,
        "safe_hit_rate": _rate(result.safe_hit_rate),
        "bad_hit_rate": _rate(result.bad_hit_rate),
        "hit_precision": _rate(result.hit_precision),
        "reuse_captured": _rate(result.reuse_captured),
        "cross_tenant_hits": result.cross_tenant_hits,
        "cost": {
            "fresh": _money(result.fresh_cost_nano),
            "with_policy": _money(result.policy_cost_nano),
            "savings": _money(result.savings_nano),
            "savings_fraction": None if result.savings_fraction is None else round(result.savings_fraction, 6),
            "savings_from_bad_hits": _money(result.bad_hit_savings_nano),
        },
        "families": [family.as_json() for family in result.families],
        "bad_hit_examples": [example.as_json() for example in result.bad_hit_examples],
    }


def report_json(result: BenchResult) -> dict:
    workload = result.workload
    return {
        "format": REPORT_FORMAT,
        "version": REPORT_VERSION,
        "workload": {
            "source": workload.source,
            "requests": workload.requests,
            "tenants": workload.tenants,
            "labelled": workload.labelled,
            "reusable": workload.reusable if workload.labelled else None,
            "unpriced_requests": workload.unpriced,
            "unpriced_models": list(workload.unpriced_models),
            "families": workload.families,
            "languages": workload.languages,
        },
        "settings": {
            "discount_bps": result.settings.discount_bps,
            "default_completion_tokens": result.settings.default_completion_tokens,
            "prompt_tokens": "(UTF-8 bytes of the compact messages JSON + 3) // 4",
            "embedding_model": result.embedding_model,
            "semantic_store": "global (GPTCache default): no tenant, model or parameters in the lookup",
        },
        "fresh_cost": _money(result.policies[0].fresh_cost_nano if result.policies else 0),
        "policies": [policy_json(policy) for policy in result.policies],
        "elapsed_seconds": round(result.elapsed_seconds, 3),
    }


# --- terminal ----------------------------------------------------------------------------------


def _percent(rate: Rate | None, places: int = 1) -> str:
    if rate is None or rate.value is None:
        return "-"
    return f"{100 * rate.value:.{places}f}%"


def _interval(rate: Rate | None) -> str:
    if rate is None or rate.interval is None:
        return "-"
    low, high = rate.interval
    return f"[{100 * low:.1f}, {100 * high:.1f}]"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> list[str]:
    """Plain columns: the first `left` columns flush left, numbers flush right."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            str(cell).ljust(width) if i < left else str(cell).rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return [line(header), line(["-" * width for width in widths]), *map(line, rows)]


def policy_groups(policies: Sequence[PolicyResult]) -> list[tuple[str, list[PolicyResult]]]:
    """Threshold-free policies side by side, then one group per swept kind (its columns are thresholds)."""
    plain = [policy for policy in policies if policy.threshold is None]
    groups: list[tuple[str, list[PolicyResult]]] = [("", plain)] if plain else []
    for kind in dict.fromkeys(policy.kind for policy in policies if policy.threshold is not None):
        groups.append((kind, [policy for policy in policies if policy.kind == kind and policy.threshold is not None]))
    return groups


def _family_matrix(policies: Sequence[PolicyResult], pick: Callable[[FamilyResult], bool],
                   cell: Callable[[FamilyResult], Rate]) -> list[str]:
    lines: list[str] = []
    for kind, group in policy_groups(policies):
        rows_by_key: dict[tuple[str, str], list[str]] = {}
        counts: dict[tuple[str, str], int] = {}
        for column, policy in enumerate(group):
            for family in policy.families:
                if not pick(family):
                    continue
                key = (family.family, family.language)
                counts[key] = family.requests
                rows_by_key.setdefault(key, ["-"] * len(group))[column] = _percent(cell(family), 0)
        if not rows_by_key:
            continue
        names = [policy.name if not kind else f"@{policy.threshold:.2f}" for policy in group]
        header = [kind or "family/language", "n", *names]
        traps = {(f.family, f.language) for policy in group for f in policy.families if f.is_trap}
        # Trap families first; they are marked so a reader can tell them from ordinary traffic.
        ordered = sorted(rows_by_key.items(), key=lambda item: (item[0] not in traps, item[0]))
        rows = [[f"{'*' if key in traps else ' '}{key[0]}/{key[1]}", str(counts[key]), *cells]
                for key, cells in ordered]
        lines += ["", *_table(header, rows)]
    return lines


def render_tables(result: BenchResult) -> str:
    workload = result.workload
    policies = result.policies
    fresh = policies[0].fresh_cost_nano if policies else 0
    lines = [
        f"CacheSafety Bench: {workload.requests} requests from {workload.tenants} tenant(s), {workload.source}",
        f"fresh cost of the workload ${money.usd(fresh)}; hits charged at "
        f"{(10_000 - result.settings.discount_bps) / 100:g}% of list price",
    ]
    if workload.labelled:
        lines.append(f"{workload.reusable} requests could safely reuse an earlier answer (same tenant and class)")
    else:
        lines.append("unlabelled workload (no answer_class): hit rates and savings only; cross-tenant hits still count")
    if workload.unpriced:
        lines.append(f"{workload.unpriced} requests name models the catalog does not price "
                     f"({', '.join(workload.unpriced_models)}): they cost 0 here")
    if result.embedding_model:
        lines.append(f"embedding model: {result.embedding_model}")

    header = ["policy", "hits", "hit%", "safe%", "bad%", "bad% 95% CI", "precision", "reuse", "x-tenant",
              "savings USD", "savings%", "from bad hits USD"]
    rows = [[
        policy.name, str(policy.hits), _percent(policy.hit_rate), _percent(policy.safe_hit_rate),
        _percent(policy.bad_hit_rate, 2), _interval(policy.bad_hit_rate), _percent(policy.hit_precision),
        _percent(policy.reuse_captured), str(policy.cross_tenant_hits), money.usd(policy.savings_nano),
        "-" if policy.savings_fraction is None else f"{100 * policy.savings_fraction:.1f}%",
        money.usd(policy.bad_hit_savings_nano),
    ] for policy in policies]
    lines += ["", *_table(header, rows)]
    unjudged = max((policy.unjudged_hits for policy in policies), default=0)
    if workload.labelled and unjudged:
        lines.append(f"note: up to {unjudged} hits per policy could not be judged (a side has no answer_class); "
                     "they count in hit% and savings, not in safe% or bad%")

    if any(family.is_trap for policy in policies for family in policy.families):
        lines += ["", "Bad hits by family: % of the family's requests served a wrong answer "
                  "(* = trap family: these are its trap failures)"]
        lines += _family_matrix(policies, lambda family: True, lambda family: family.trap_failures)
        lines += ["", "Reuse captured: % of the family's requests served a correct earlier answer (safe hits)"]
        lines += _family_matrix(policies, lambda family: not family.is_trap, lambda family: family.safe_hit_rate)
    return "\n".join(lines)
