"""The results tables: grouping by protocol, row order, names, numbers and commands; the thin script around them."""

import json
import subprocess
import sys
from pathlib import Path

from llmkb.evaluation.tables import ORDER, read_reports, requests_table, results_tables

REPO = Path(__file__).resolve().parents[2]


def report(system: str, protocol: str = "inspired-dedup", exclude: bool = False, r1: float = 0.1,
           split: str = "test", limit=None) -> dict:
    metrics = {"samples": 191, "pairs": 212, "recall@1": r1, "recall@10": 0.2, "recall@50": 0.3, "ndcg@10": 0.4,
               "ndcg@50": 0.45, "mrr@50": 0.5, "pair_recall@1": 0.55, "pair_recall@10": 0.6, "pair_recall@50": 0.7}
    command = f"llmkb evaluate --dataset inspired --protocol dedup --system {system}" + " --exclude-mentioned" * exclude
    return {"protocol": protocol, "split": split, "system": system, "exclude_mentioned": exclude, "limit": limit,
            "metrics": metrics, "command": command, "date": "2026-12-01"}


def write_reports(folder: Path, reports: list[dict]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{i}.report.json" for i in range(len(reports))]
    for path, r in zip(paths, reports):
        path.write_text(json.dumps(r))
    return paths


def test_order_has_the_new_systems_where_the_tables_want_them():
    assert ORDER.index("retriever-zeroshot") + 1 == ORDER.index("retriever-calibrated")
    assert ORDER.index("rag-no-llm") + 1 == ORDER.index("rag-ranker") == ORDER.index("rag") - 1
    assert ORDER[-2:] == ["llm-zeroshot", "rag-no-postprocess"]


def test_two_reports_make_one_table_in_order_with_commands_and_dates(tmp_path):
    reports = read_reports(write_reports(tmp_path, [report("rag", r1=0.0312), report("bm25", exclude=True)]))
    lines = results_tables(reports).splitlines()
    assert lines[0] == "### inspired-dedup (test: 191 samples, 212 pairs)"
    assert lines[2].startswith("| system | R@1 | R@10 | R@50 | NDCG@10 | MRR@50 | pair R@10 | pair R@50 | command |")
    assert lines[4] == ("| bm25 (excl. mentioned) | 0.100 | 0.200 | 0.300 | 0.400 | 0.500 | 0.600 | 0.700 | "
                        "`llmkb evaluate --dataset inspired --protocol dedup --system bm25 --exclude-mentioned` "
                        "| 2026-12-01 |")
    assert lines[5].startswith("| rag | 0.031 | 0.200 |") and lines[5].endswith("--system rag` | 2026-12-01 |")
    assert len(lines) == 6


def test_protocols_are_separate_tables_valid_runs_left_out_and_limits_named():
    text = results_tables([report("rag", "redial-std"), report("popularity", "inspired-std"),
                           report("bm25", "inspired-std", split="valid"), report("rag", "inspired-std", limit=60),
                           report("rag-no-llm", "inspired-std")])
    headings = [line for line in text.splitlines() if line.startswith("###")]
    assert [h.split()[1] for h in headings] == ["inspired-std", "redial-std"]
    assert "bm25" not in text
    rows = [line.split(" | ")[0] for line in text.split("\n\n")[1].splitlines()[2:]]
    assert rows == ["| popularity", "| rag-no-llm", "| rag (first 60 samples)"]
    assert results_tables([]) == ""


def test_requests_table_rows_per_variant():
    cell = {"requests": 25, "precision@5": 0.968, "hit@5": 1.0, "precision@5 95% CI": [0.904, 1.0]}
    empty = {"requests": 0}
    variant = {"metrics": {"satisfiable": {"overall": cell, "groups": {"single": cell, "negated": empty}}}}
    report = {"dataset": "inspired", "command": "llmkb evaluate-requests --dataset inspired", "date": "2026-12-01",
              "generation": {"min_items": 5}, "variants": {"full": variant, "no-kb": variant}}
    lines = requests_table([report]).splitlines()
    assert "at least 5 catalogue items" in lines[0]
    assert lines[2] == "| dataset | variant | single | negated | overall P@5 [95% CI] / hit@5 | command | date |"
    assert lines[4] == ("| inspired (25/0) | full | 0.968 / 1.00 | – | 0.968 [0.904, 1.000] / 1.00 | "
                        "`llmkb evaluate-requests --dataset inspired` | 2026-12-01 |")
    assert lines[5].startswith("|  | no-kb | 0.968 / 1.00 | – |") and lines[5].endswith(" |  |  |")
    assert requests_table([]) == ""


def test_script_prints_the_tables_of_the_reports_it_is_given(tmp_path):
    paths = write_reports(tmp_path, [report("popularity"), report("copy-context")])
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "results_table.py"), *map(str, paths)],
                         capture_output=True, text=True, check=True, cwd=REPO).stdout
    assert out == results_tables(read_reports(paths)) + "\n"
    assert out.index("| popularity |") < out.index("| copy-context |")
