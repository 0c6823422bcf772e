#!/usr/bin/env python
"""Print markdown results tables from evaluation reports (artifacts/runs/*.report.json by default).

    python scripts/results_table.py [REPORT ...]
Each row shows the metrics of PROTOCOLS.md and the exact command that produced them.
"""

import json
import sys
from pathlib import Path

ORDER = ["popularity", "copy-context", "bm25", "retriever-zeroshot", "retriever", "rag"]


def main(paths: list[str]) -> None:
    reports = [json.loads(Path(p).read_text()) for p in paths or sorted(Path("artifacts/runs").glob("*.report.json"))]
    for protocol in sorted({r["protocol"] for r in reports}):
        rows = sorted((r for r in reports if r["protocol"] == protocol and r["split"] == "test"),
                      key=lambda r: (ORDER.index(r["system"]) if r["system"] in ORDER else 99, r["exclude_mentioned"]))
        if not rows:
            continue
        m0 = rows[0]["metrics"]
        print(f"\n### {protocol} (test: {m0['samples']:,} samples, {m0['pairs']:,} pairs)\n")
        print("| system | R@1 | R@10 | R@50 | NDCG@10 | MRR@50 | pair R@10 | pair R@50 | command | date |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            m = r["metrics"]
            name = r["system"] + (" (excl. mentioned)" if r["exclude_mentioned"] else "")
            print(f"| {name} | {m['recall@1']:.3f} | {m['recall@10']:.3f} | {m['recall@50']:.3f} | {m['ndcg@10']:.3f} "
                  f"| {m['mrr@50']:.3f} | {m['pair_recall@10']:.3f} | {m['pair_recall@50']:.3f} | `{r['command']}` "
                  f"| {r['date']} |")


if __name__ == "__main__":
    main(sys.argv[1:])
