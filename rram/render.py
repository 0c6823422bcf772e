"""Reports for people: markdown tables, the accuracy-vs-cost Pareto plot, and the files of one run.

Example::

    >>> from rram.render import markdown
    >>> from rram.report import MethodResult, Report
    >>> cost = {"crossbars": 8, "energy_pj": 2e3, "area_mm2": 0.1, "tops_per_w": 1.0, "gops_per_mm2": 2.0}
    >>> print(markdown(Report("toy", "isaac32", "acc", True, [MethodResult("dense", 0.5, cost)])).splitlines()[4])
    | dense | 0.5000 | 8 | 2.0 | 0.10 | 1.000 | 2.00 | — | — | — |
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from rram import frontier
from rram.analysis import OURS, equal_accuracy, family, headline, operating_points, ratios, summary
from rram.files import atomic_write
from rram.report import MethodResult, Report, save_json


OURS_FAMILIES = (OURS, f"{OURS}+gptq")  # ours, with and without GPTQ's compensation


def _x(v) -> str:
    return "—" if v is None else f"{v:.2f}×"


def markdown(report: Report, ours: str = OURS, layers_of: str | None = None, max_layers: int = 12) -> str:
    """Method table (accuracy, cost, ratios vs dense), equal-accuracy comparison of family ``ours``, and
    the first per-layer rows of result ``layers_of`` (default ``ours``, else ours' operating point)."""
    lines = [
        f"# {report.model} on {report.technology} ({report.metric}, {'higher' if report.higher_is_better else 'lower'} is better)",
        "",
        "| method | accuracy | crossbars | energy/token (nJ) | area (mm²) | TOPS/W | GOPS/mm² | compression | energy eff. | area eff. |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report.results:
        ra = ratios(report, r.name) if r.name != report.reference else {}
        acc = "—" if r.accuracy is None else f"{r.accuracy:.4f}"
        c = r.cost
        lines.append(
            f"| {r.name} | {acc} | {c['crossbars']:,} | {c['energy_pj'] / 1e3:.1f} | {c['area_mm2']:.2f} | "
            f"{c['tops_per_w']:.3f} | {c['gops_per_mm2']:.2f} | {_x(ra.get('compression_crossbars'))} | "
            f"{_x(ra.get('energy_efficiency'))} | {_x(ra.get('area_efficiency'))} |"
        )
    names = {r.name for r in report.results}
    eq = equal_accuracy(report, ours)
    if eq:
        tol = f"{eq['tolerance']:.0%} relative" if eq["relative"] else f"{eq['tolerance']:g}"
        lines += ["", f"## Equal accuracy (within {tol} of {report.reference})", "",
                  "Operating points (most aggressive setting within tolerance, per method): "
                  + ", ".join(f"{f}: {n}" for f, n in eq["points"].items())
                  + (f"; none within tolerance: {', '.join(eq['missing'])}" if eq["missing"] else "") + ".", "",
                  f"| ours ({eq['ours']}) vs | its point | its accuracy | compression | energy eff. | area eff. |",
                  "|---|---|---|---|---|---|"]
        for f, row in eq["per_baseline"].items():
            lines.append(f"| {f} | {row['point']} | {row['accuracy']:.4f} | {_x(row['compression_crossbars'])} | "
                         f"{_x(row['energy_efficiency'])} | {_x(row['area_efficiency'])} |")
        if eq["baseline"]:
            lines += ["", _headline_line("the strongest baseline at equal accuracy", eq)]
    head = headline(report, ours) if ours in names else None
    if head and not eq:
        lines += ["", _headline_line("strongest equally-accurate baseline", head)]
    layers_of = layers_of or ours
    if eq and layers_of not in names:
        layers_of = eq["ours"]
    if layers_of in names:
        rows = report.get(layers_of).layers[:max_layers]
        lines += ["", f"## Per-layer ({layers_of}, first {len(rows)})", "",
                  "| layer | in | out | bits | crossbars | ADC bits | energy (pJ) | area (µm²) |", "|---|---|---|---|---|---|---|---|"]
        for row in rows:
            lines.append(f"| {row['name']} | {row['in_features']} | {row['out_features']} | {row['bits']} | {row['crossbars']} | "
                         f"{row['adc_bits_max']} | {row['energy_pj_total']:.0f} | {row['area_um2_total']:.0f} |")
    return "\n".join(lines) + "\n"


def _headline_line(against: str, h: dict) -> str:
    return (f"**Headline** vs {against} ({h['baseline']}): compression {_x(h['compression_crossbars'])}, "
            f"energy efficiency {_x(h['energy_efficiency'])}, area efficiency {_x(h['area_efficiency'])}; "
            f"accuracy change vs dense {h['accuracy_change_vs_dense']:+.4f}.")


def results_table(report: Report, also: list[str] = ()) -> str:
    """The docs/results/rram.md tables: every result with its change vs dense and timings (operating points in bold),
    then ours at its point vs each baseline's point. also: extra metrics from ``extra["metrics"]`` as columns."""
    ref = report.get(report.reference)
    metric = report.metric.split(" ")[0]
    head = ["method", metric, *also, "Δ vs dense", "crossbars", "energy/token (nJ)", "area (mm²)",
            "TOPS/W", "GOPS/mm²", "retrain (s)", "eval (s)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    points = {r.name for r in operating_points(report).values()} if report.tolerance is not None else set()
    for r in report.results:
        c, x = r.cost, r.extra
        name = f"**{r.name}**" if r.name in points else r.name
        delta = (r.accuracy - ref.accuracy) / abs(ref.accuracy)
        row = [name, f"{r.accuracy:.4f}", *[f"{x.get('metrics', {}).get(a, float('nan')):.4f}" for a in also],
               f"{delta:+.1%}", f"{c['crossbars']:,}", f"{c['energy_pj'] / 1e3:.1f}", f"{c['area_mm2']:.2f}",
               f"{c['tops_per_w']:.3f}", f"{c['gops_per_mm2']:.2f}", f"{x.get('retrain_seconds', 0):.0f}",
               f"{x.get('eval_seconds', 0):.0f}"]
        lines.append("| " + " | ".join(row) + " |")
    eq = equal_accuracy(report)
    if eq:
        lines += ["", f"| ours at its point ({eq['ours']}) vs | baseline's point | its {metric} | "
                      "compression (crossbars) | compression (cells) | energy eff. | area eff. |", "|---|---|---|---|---|---|---|"]
        for f, row in eq["per_baseline"].items():
            lines.append(f"| {f} | {row['point']} | {row['accuracy']:.4f} | {row['compression_crossbars']:.2f}× | "
                         f"{row.get('compression_cells', float('nan')):.2f}× | {row['energy_efficiency']:.2f}× | "
                         f"{row['area_efficiency']:.2f}× |")
        if eq["missing"]:
            lines += ["", f"No setting within tolerance: {', '.join(eq['missing'])}."]
    return "\n".join(lines)


def pareto_plot(report: Report, path: str | Path, ours: str = OURS) -> Path:
    """Accuracy vs energy per token and vs area, one point per method, ours as stars (matplotlib Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pts = [r for r in report.results if r.accuracy is not None]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, label in ((axes[0], "energy_pj", "energy per token (nJ)"), (axes[1], "area_mm2", "area (mm²)")):
        scale = 1e-3 if key == "energy_pj" else 1.0
        for r in pts:
            ax.scatter(r.cost[key] * scale, r.accuracy, s=40, marker="*" if family(r) == ours else "o")
            ax.annotate(r.name, (r.cost[key] * scale, r.accuracy), fontsize=7, xytext=(3, 3), textcoords="offset points")
        front = _front(pts, key, report.higher_is_better)
        ax.plot([r.cost[key] * scale for r in front], [r.accuracy for r in front], "k--", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel(report.metric)
    fig.suptitle(f"{report.model} — {report.technology}")
    fig.tight_layout()
    try:
        return atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=120))
    finally:
        plt.close(fig)


def _front(points: list[MethodResult], key: str, higher_is_better: bool) -> list[MethodResult]:
    """Pareto-optimal points: no other point is cheaper and at least as accurate."""
    sign = 1 if higher_is_better else -1
    ordered = sorted(points, key=lambda r: (r.cost[key], -sign * r.accuracy))
    front, best = [], None
    for r in ordered:
        if best is None or sign * r.accuracy > sign * best:
            front.append(r)
            best = r.accuracy
    return front


def frontier_summary(report: Report, ours=OURS_FAMILIES, samples: int = 1000) -> dict:
    """Equal accuracy on the frontiers and the bootstrap intervals, on the selection split and on the report split."""
    out: dict = {}
    for key, rep in (("selection", report), ("report", reported(report))):
        if rep is None or rep.tolerance is None and key == "selection":
            continue
        units = all(r.extra.get("units") for r in rep.results)
        tol = rep.tolerance is not None
        out[key] = {"equal_accuracy": frontier.equal_accuracy(rep, ours) if tol else None,
                    "intervals": frontier.bootstrap(rep, ours, samples) if units else None,
                    "interpolated": frontier.equal_accuracy(rep, ours, interpolate=True) if tol else None,
                    "intervals_interpolated": frontier.bootstrap(rep, ours, samples, interpolate=True)
                    if units and tol else None}
    return out


def frontier_markdown(report: Report, ours=OURS_FAMILIES, found: dict | None = None) -> str:
    """The frontier comparison and, where measured, the report split's accuracies with 95% intervals.

    found: :func:`frontier_summary` of ``report``, when already computed (else computed with 200 draws).
    """
    found = found if found is not None else frontier_summary(report, ours, samples=200)
    lines: list[str] = []
    sel = found.get("selection") or {}
    eq, ci = sel.get("equal_accuracy"), sel.get("intervals") or {}
    if eq:
        lines += ["", "## Equal accuracy at measured configurations", "",
                  f"Bound {eq['bound']:.4f}. Each family at its most efficient measured setting within the bound "
                  "(the next one beyond it in brackets):", ""]
        for fam, point in [(eq["ours_family"], eq["ours"]), *sorted(eq["baselines"].items())]:
            if point:
                beyond = f" (next: {point['next']}, {point['next_accuracy']:.4f})" if point.get("next") else ""
                lines.append(f"- {fam}: {point['name']}, {point['accuracy']:.4f}{beyond}")
        lines += ["", f"Ours ({eq['ours_family']}) against the strongest family there ({eq['baseline']}): "
                  f"compression {_ratios(eq, ci)}."]
    interpolated, ici = sel.get("interpolated"), sel.get("intervals_interpolated") or {}
    if interpolated:
        lines += ["", f"Read between measured settings (interpolated; no configuration need realise it): ours "
                  f"({interpolated['ours_family']}) against {interpolated['baseline']}: "
                  f"compression {_ratios(interpolated, ici)}."]
    rep = reported(report)
    if rep is not None:
        rci = (found.get("report") or {}).get("intervals") or {}
        lines += ["", f"## On the report split ({report.meta.get('report_split')})", "",
                  "| method | accuracy [95%] | change vs dense [95%] |", "|---|---|---|"]
        ref = rep.get(rep.reference).accuracy
        for r in rep.results:
            acc, chg = rci.get(f"accuracy:{r.name}"), rci.get(f"change:{r.name}")
            interval_acc = f" [{acc[0]:.4f}, {acc[1]:.4f}]" if acc else ""
            interval_chg = f" [{chg[0]:+.1%}, {chg[1]:+.1%}]" if chg else ""
            lines.append(f"| {r.name} | {r.accuracy:.4f}{interval_acc} | {r.accuracy / ref - 1:+.1%}{interval_chg} |")
    return "\n".join(lines) + ("\n" if lines else "")


def _ratios(eq: dict, ci: dict) -> str:
    return (f"{_ci(eq['compression_crossbars'], ci.get('compression_crossbars'))}, energy efficiency "
            f"{_ci(eq['energy_efficiency'], ci.get('energy_efficiency'))}, area efficiency "
            f"{_ci(eq['area_efficiency'], ci.get('area_efficiency'))}")


def _ci(value: float, bounds) -> str:
    return f"{value:.2f}×" + (f" [{bounds[0]:.2f}, {bounds[1]:.2f}]" if bounds else "")


def reported(report: Report) -> Report | None:
    """The results also measured on the report split, as a report of their own (None if there are none)."""
    kept = [MethodResult(**{**asdict(r), "accuracy": r.extra["report"]["accuracy"],
                            "extra": {**r.extra["report"]}}) for r in report.results if "report" in r.extra]
    if not kept or kept[0].name != report.reference:
        return None
    return Report(model=report.model, technology=report.technology, metric=report.metric,
                  higher_is_better=report.higher_is_better, results=kept, reference=report.reference,
                  meta=report.meta, tolerance=report.tolerance, relative_tolerance=report.relative_tolerance)


def write_all(report: Report, out_dir: str | Path, ours: str = OURS) -> dict[str, Path]:
    """report.json (with ``rram.analysis.summary`` and :func:`frontier_summary`), report.md and pareto.png."""
    out = Path(out_dir)
    found = frontier_summary(report)
    derived = {**summary(report, ours), "frontier": found}
    return {
        "json": save_json(report, out / "report.json", derived),
        "md": atomic_write(out / "report.md", markdown(report, ours) + frontier_markdown(report, found=found)),
        "png": pareto_plot(report, out / "pareto.png", ours),
    }
