"""Reports as data: JSON round trip, reading report.json files written before the split, merging runs."""

import json

from tiny_reports import ppl_report, sweep_report
from rram.analysis import summary
from rram.report import MethodResult, Report, load_json, merge, save_json


def test_json_round_trip_ignores_derived_entries(tmp_path):
    rep = sweep_report()
    path = save_json(rep, tmp_path / "report.json", summary(rep))
    data = json.loads(path.read_text())
    assert list(data)[:9] == ["model", "technology", "metric", "higher_is_better", "results", "reference", "meta",
                              "tolerance", "relative_tolerance"]  # the layout older readers expect
    assert {"ratios_vs_dense", "headline", "equal_accuracy"} <= set(data)
    assert load_json(path) == rep


def test_reads_a_report_written_before_the_split(tmp_path):
    old = {"model": "m", "technology": "isaac32", "metric": "ppl", "higher_is_better": False, "reference": "dense",
           "results": [{"name": "dense", "accuracy": 10.0, "cost": {"crossbars": 4}, "layers": [], "config": {},
                        "extra": {}}],
           "meta": {"date": "2026-11-24"}, "tolerance": 0.02, "relative_tolerance": True,
           "ratios_vs_dense": {}, "headline": None, "equal_accuracy": None}
    (tmp_path / "report.json").write_text(json.dumps(old))
    rep = load_json(tmp_path / "report.json")
    assert rep.tolerance == 0.02 and rep.get("dense") == MethodResult("dense", 10.0, {"crossbars": 4})


def test_merge_suffixes_skips_repeated_labels_and_swaps_metric():
    a, b = sweep_report(), sweep_report()
    merged = merge([a, b], ["", "+cal"], metric="recall@10")
    names = [r.name for r in merged.results]
    assert names[:6] == [r.name for r in a.results] and names[6:] == [r.name + "+cal" for r in b.results[1:]]
    assert merged.metric == "recall@10" and merged.get("dense").accuracy == 0.25 and merged.tolerance == 0.01
    assert [r.name for r in merge([ppl_report(), ppl_report()]).results] == [r.name for r in ppl_report().results]
    assert isinstance(merged, Report)
