"""The trade-off in one picture: what each policy saves against how often it serves a wrong answer.

matplotlib is an optional extra and is imported only here, with the Agg backend (no display needed).
"""

from __future__ import annotations

from pathlib import Path

from nextmodel_cachesafety.bench import BenchResult
from nextmodel_cachesafety.report import policy_groups

INSTALL_HINT = "the chart needs matplotlib: pip install 'nextmodel[cachesafety]'"


class ChartUnavailable(RuntimeError):
    pass


def save_chart(result: BenchResult, path: Path) -> Path:
    if not result.workload.labelled:
        raise ChartUnavailable("the chart plots bad hits, which need an answer_class on the workload's lines")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ChartUnavailable(INSTALL_HINT) from None

    figure, axes = plt.subplots(figsize=(9, 6), dpi=120)
    markers = iter("sD^vP*X")
    for kind, group in policy_groups(result.policies):
        points = [(100 * p.bad_hit_rate.value, 100 * (p.savings_fraction or 0)) for p in group]
        if kind:  # a threshold sweep: one line, each point labelled with its threshold
            xs, ys = zip(*points, strict=True)
            axes.plot(xs, ys, marker="o", markersize=4, linewidth=1.2, label=kind)
            for policy, (x, y) in zip(group, points, strict=True):
                axes.annotate(f"{policy.threshold:.2f}", (x, y), textcoords="offset points", xytext=(4, 3),
                              fontsize=7, alpha=0.8)
        else:
            for policy, (x, y) in zip(group, points, strict=True):
                axes.plot([x], [y], marker=next(markers, "o"), markersize=9, linestyle="none", label=policy.name)
    axes.set_xlabel("bad hit rate (% of requests served a wrong or another tenant's answer)")
    axes.set_ylabel("savings (% of the workload's fresh cost)")
    discount = result.settings.discount_bps / 100
    axes.set_title(f"CacheSafety Bench: savings against bad hits "
                   f"({result.workload.requests} requests, hits at {discount:g}% off)", fontsize=10)
    axes.grid(True, alpha=0.3)
    axes.set_xlim(left=-0.5)
    axes.set_ylim(bottom=0)
    axes.legend(fontsize=8, loc="lower right")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path
