#!/usr/bin/env python
"""Markdown tables for docs/results/rram.md from ``llmkb rram prune`` reports (report.json), one or more merged.

    python scripts/rram_results.py artifacts/rram/llm/report.json [artifacts/rram/llm-mixed/report.json] [--also recall@10]

Merging (``rram.report.merge``): results are keyed by label; the first report's dense reference, metric and
tolerance are used, and a later report's entries with a label already present are skipped (merge only runs whose
dense results agree). ``PATH:SUFFIX`` appends SUFFIX to that report's labels (e.g. ``:+cal``). Then the
equal-accuracy ratios off the interpolated Pareto frontiers and, where the run had ``--report-split``, the report
split's accuracies, with bootstrap 95% intervals (``rram.render.frontier_markdown``).
"""

import argparse
import json

from rram.analysis import equal_accuracy
from rram.render import frontier_markdown, frontier_summary, results_table
from rram.report import load_json, merge

HEADLINE = ("ours", "baseline", "compression_crossbars", "compression_cells", "energy_efficiency", "area_efficiency",
            "accuracy_change_vs_dense")

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("reports", nargs="+", metavar="PATH[:SUFFIX]")
    p.add_argument("--metric", default=None, help="judge equal accuracy on this extra metric instead (e.g. recall@10)")
    p.add_argument("--tolerance", type=float, default=None, help="override the reports' (relative) tolerance")
    p.add_argument("--also", default="", help="comma-separated extra metrics from extra['metrics'] (e.g. recall@10)")
    args = p.parse_args()
    paths, _, suffixes = zip(*(r.partition(":") for r in args.reports))
    rep = merge([load_json(path) for path in paths], list(suffixes), args.metric)
    if args.tolerance is not None:
        rep.tolerance = args.tolerance
    print(results_table(rep, [a for a in args.also.split(",") if a]))
    eq = equal_accuracy(rep)
    if eq:
        print("\nheadline:", json.dumps({k: eq[k] for k in HEADLINE if k in eq}))
    print(frontier_markdown(rep, found=frontier_summary(rep)))
