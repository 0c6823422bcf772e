#!/usr/bin/env python
"""Markdown tables for docs/RESULTS.md from prune-script reports (report.json), one or more merged.

    python scripts/rram_results.py artifacts/rram/llm/report.json [artifacts/rram/llm-mixed/report.json] [--also recall@10]

Merging: results are keyed by label; the first report's dense reference, metric and tolerance are used, and a
later report's entries with a label already present are skipped (so re-running dense is harmless; merge only
runs whose dense results agree). ``PATH:SUFFIX`` appends SUFFIX to that report's labels (e.g. ``:+cal``).
"""

from __future__ import annotations

import argparse
import json

from rram.report import MethodResult, Report


def load(paths: list[str], metric: str | None = None) -> Report:
    """Merged report; ``metric``: use that entry of extra["metrics"] as the accuracy instead (e.g. recall@10)."""
    reports, suffixes = [], []
    for p in paths:
        path, _, suffix = p.partition(":")
        reports.append(json.loads(open(path).read()))
        suffixes.append(suffix)
    first = reports[0]
    seen, results = set(), []
    for d, suffix in zip(reports, suffixes):
        for r in d["results"]:
            if suffix and r["name"] != d.get("reference", "dense"):
                r = {**r, "name": r["name"] + suffix}
            if r["name"] not in seen:
                seen.add(r["name"])
                if metric:
                    r = {**r, "accuracy": r["extra"]["metrics"][metric]}
                results.append(MethodResult(**r))
    keep = {k: first[k] for k in ("model", "technology", "metric", "higher_is_better", "reference", "meta",
                                  "tolerance", "relative_tolerance") if k in first}
    if metric:
        keep["metric"] = metric
    return Report(results=results, **keep)


def tables(rep: Report, also: list[str]) -> str:
    ref = rep.get(rep.reference)
    head = ["method", rep.metric.split(" ")[0], *also, "Δ vs dense", "crossbars", "energy/token (nJ)", "area (mm²)",
            "TOPS/W", "GOPS/mm²", "retrain (s)", "eval (s)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    points = {r.name for r in rep.operating_points().values()} if rep.tolerance is not None else set()
    for r in rep.results:
        c, x = r.cost, r.extra
        name = f"**{r.name}**" if r.name in points else r.name
        delta = (r.accuracy - ref.accuracy) / abs(ref.accuracy)
        row = [name, f"{r.accuracy:.4f}", *[f"{x.get('metrics', {}).get(a, float('nan')):.4f}" for a in also],
               f"{delta:+.1%}", f"{c['crossbars']:,}", f"{c['energy_pj'] / 1e3:.1f}", f"{c['area_mm2']:.2f}",
               f"{c['tops_per_w']:.3f}", f"{c['gops_per_mm2']:.2f}", f"{x.get('retrain_seconds', 0):.0f}",
               f"{x.get('eval_seconds', 0):.0f}"]
        lines.append("| " + " | ".join(row) + " |")
    eq = rep.equal_accuracy()
    if eq:
        lines += ["", f"| ours at its point ({eq['ours']}) vs | baseline's point | its {rep.metric.split(' ')[0]} | "
                      "compression (crossbars) | compression (cells) | energy eff. | area eff. |", "|---|---|---|---|---|---|---|"]
        for f, row in eq["per_baseline"].items():
            lines.append(f"| {f} | {row['point']} | {row['accuracy']:.4f} | {row['compression_crossbars']:.2f}× | "
                         f"{row.get('compression_cells', float('nan')):.2f}× | {row['energy_efficiency']:.2f}× | "
                         f"{row['area_efficiency']:.2f}× |")
        if eq["missing"]:
            lines += ["", f"No setting within tolerance: {', '.join(eq['missing'])}."]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("reports", nargs="+")
    p.add_argument("--metric", default=None, help="judge equal accuracy on this extra metric instead (e.g. recall@10)")
    p.add_argument("--tolerance", type=float, default=None, help="override the reports' (relative) tolerance")
    p.add_argument("--also", default="", help="comma-separated extra metrics from extra['metrics'] (e.g. recall@10)")
    args = p.parse_args()
    rep = load(args.reports, args.metric)
    if args.tolerance is not None:
        rep.tolerance = args.tolerance
    print(tables(rep, [a for a in args.also.split(",") if a]))
    eq = rep.equal_accuracy()
    if eq:
        print("\nheadline:", json.dumps({k: eq[k] for k in ("ours", "baseline", "compression_crossbars",
                                                             "compression_cells", "energy_efficiency", "area_efficiency",
                                                             "accuracy_change_vs_dense") if k in eq}))


if __name__ == "__main__":
    main()
