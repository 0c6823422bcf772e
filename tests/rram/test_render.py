"""Markdown, the results tables and the files of one run."""

import json

from tiny_reports import ppl_report, sweep_report
from rram.render import markdown, results_table, write_all


def test_write_all(tmp_path):
    files = write_all(ppl_report(), tmp_path)
    data = json.loads(files["json"].read_text())
    assert data["headline"]["baseline"] == "block-0.5"
    assert "| reconstruct |" in files["md"].read_text()
    assert files["png"].stat().st_size > 1000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pareto.png", "report.json", "report.md"]  # no temp files


def test_equal_accuracy_in_written_report(tmp_path):
    files = write_all(sweep_report(), tmp_path)
    data = json.loads(files["json"].read_text())
    assert data["equal_accuracy"]["baseline"] == "magnitude-0.25"
    md = files["md"].read_text()
    assert "Equal accuracy" in md and "none within tolerance: quantize" in md
    assert "## Per-layer (reconstruct-4b" in md  # ours' operating point when no result is plain "reconstruct"


def test_markdown_for_another_family():
    md = markdown(sweep_report(), ours="magnitude")
    assert "| ours (magnitude-0.25) vs |" in md and "| reconstruct | reconstruct-4b |" in md


def test_results_table_bolds_operating_points():
    table = results_table(sweep_report(), also=["recall@10"])
    lines = table.splitlines()
    assert lines[0].startswith("| method | recall | recall@10 | Δ vs dense |")
    assert lines[3].startswith("| **reconstruct-4b** | 0.4980 | 0.2490 | -0.4% | 50 |")
    assert "No setting within tolerance: quantize." in table
