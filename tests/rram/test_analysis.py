"""Ratios, the headline among equally accurate results, operating points and equal accuracy per method family."""

import pytest

from tiny_reports import ppl_report, sweep_report
from rram.analysis import equal_accuracy, headline, operating_points, ratios, summary, within
from rram.report import MethodResult, Report


def test_ratios_and_headline_at_equal_accuracy():
    r = ppl_report()
    assert ratios(r, "reconstruct")["compression_crossbars"] == 2.5
    assert ratios(r, "reconstruct")["accuracy_change"] == 0.5
    h = headline(r)
    assert h["baseline"] == "block-0.5"
    assert h["energy_efficiency"] == 2.5 / 1.9
    assert headline(r, tolerance=0.0) is not None


def test_operating_points_pick_the_most_aggressive_setting_within_tolerance():
    r = sweep_report()
    pts = operating_points(r)
    assert {f: p.name for f, p in pts.items()} == {
        "dense": "dense", "reconstruct": "reconstruct-4b", "magnitude": "magnitude-0.25"}
    eq = equal_accuracy(r)
    assert eq["ours"] == "reconstruct-4b" and eq["baseline"] == "magnitude-0.25"
    assert eq["energy_efficiency"] == 2.0 / 1.2 and eq["compression_crossbars"] == 98 / 50
    assert eq["missing"] == ["quantize"]
    assert abs(eq["accuracy_change_vs_dense"] + 0.002) < 1e-12
    # lower-is-better metrics: within 2% perplexity
    ppl = Report(model="toy", technology="isaac32", metric="ppl", higher_is_better=False, results=r.results)
    assert within(ppl, MethodResult("x", 0.509, {}), 0.02) and not within(ppl, MethodResult("x", 0.511, {}), 0.02)
    with pytest.raises(ValueError, match="tolerance"):
        operating_points(ppl)


def test_ours_is_a_parameter():
    r = sweep_report()
    eq = equal_accuracy(r, ours="magnitude")
    assert eq["ours"] == "magnitude-0.25" and eq["baseline"] == "reconstruct-4b"
    assert equal_accuracy(r, ours="quantize") is None  # no quantize setting within tolerance
    assert summary(r, ours="reconstruct-4b")["headline"]["ours"] == "reconstruct-4b"
    assert summary(r)["headline"] is None  # no result is labelled plain "reconstruct"
