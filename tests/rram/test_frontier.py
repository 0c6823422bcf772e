"""Equal accuracy on Pareto frontiers (interpolated) and paired bootstrap intervals, on hand-made reports."""

import math

import pytest

from rram.frontier import at_bound, bootstrap, equal_accuracy, frontier, interval
from rram.report import MethodResult, Report


def res(name, fam, acc, xb, tops, units=None):
    return MethodResult(name, acc, {"crossbars": xb, "tops_per_w": tops, "gops_per_mm2": 2 * tops},
                        config={"method": {"name": fam}}, extra={"units": units} if units else {})


def test_frontier_keeps_the_reference_and_drops_dominated_settings():
    rep = Report("toy", "isaac32", "recall", True, tolerance=0.02, results=[
        res("dense", "dense", 0.50, 100, 1.0), res("q-8b", "quantize", 0.49, 90, 1.1),
        res("q-6b", "quantize", 0.495, 75, 1.5), res("q-4b", "quantize", 0.30, 50, 2.0)])
    assert [a for a, _ in frontier(rep, "quantize")] == [0.50, 0.495, 0.30]  # q-8b: q-6b is better on both


def test_at_bound_interpolates_or_stops_at_the_most_efficient_point():
    front = [(0.5, {"crossbars": 100, "tops_per_w": 1.0, "gops_per_mm2": 1.0}),
             (0.4, {"crossbars": 50, "tops_per_w": 2.0, "gops_per_mm2": 3.0})]
    assert at_bound(front, 0.45, True) == {"crossbars": 75, "tops_per_w": 1.5, "gops_per_mm2": 2.0}
    assert at_bound(front, 0.40, True)["crossbars"] == 50
    assert at_bound(front, 0.30, True)["crossbars"] == 50  # no extrapolation beyond the last setting
    assert at_bound(front, 0.60, True) is None
    lower = [(10.0, front[0][1]), (12.0, front[1][1])]  # perplexity: lower is better
    assert at_bound(lower, 11.0, False)["tops_per_w"] == 1.5


def test_ours_against_the_strongest_family_at_the_bound():
    rep = Report("toy", "isaac32", "ppl", False, tolerance=0.02, results=[
        res("dense", "dense", 10.0, 100, 1.0), res("r-6b", "reconstruct", 10.1, 75, 1.5),
        res("r-4b", "reconstruct", 10.3, 50, 2.0), res("g-6b", "group", 10.2, 75, 1.5),
        res("g-4b", "group", 11.0, 50, 2.0), res("m-0.1", "magnitude", 10.0, 100, 1.01)])
    eq = equal_accuracy(rep, interpolate=True)  # bound 10.2: ours 1/2 way from 6b to 4b, group exactly at 6b
    assert eq["baseline"] == "group" and eq["ours_family"] == "reconstruct"
    assert eq["energy_efficiency"] == pytest.approx(1.75 / 1.5)
    assert eq["compression_crossbars"] == pytest.approx(75 / 62.5)
    assert equal_accuracy(rep, ours=("reconstruct", "group"))["baseline"] == "magnitude"
    measured = equal_accuracy(rep)  # configurations that exist: ours' 6b (4b is beyond) against group's 6b
    assert (measured["ours"]["name"], measured["ours"]["next"], measured["baselines"]["group"]["name"]) == \
        ("r-6b", "r-4b", "g-6b")
    assert measured["energy_efficiency"] == 1.0 and measured["compression_crossbars"] == 1.0


def test_paired_bootstrap_intervals():
    dense_units = [0.0, 1.0] * 50
    rep = Report("toy", "isaac32", "recall", True, tolerance=0.1, results=[
        res("dense", "dense", 0.5, 100, 1.0, dense_units),
        res("r-4b", "reconstruct", 0.5, 50, 2.0, list(dense_units)),  # the same hits: change exactly 0
        res("q-4b", "quantize", 0.4, 50, 2.0, [0.0, 0.8] * 50)])
    ci = bootstrap(rep, samples=200)
    assert ci["change:r-4b"] == (0.0, 0.0)
    assert ci["change:q-4b"] == pytest.approx((-0.2, -0.2))  # 0.8× on every draw
    lo, hi = ci["accuracy:dense"]
    assert lo < 0.5 < hi
    assert ci["energy_efficiency"][0] <= equal_accuracy(rep)["energy_efficiency"] <= ci["energy_efficiency"][1]


def test_bootstrap_of_perplexity_from_window_losses():
    rep = Report("toy", "isaac32", "ppl", False, tolerance=0.02, meta={"unit_accuracy": "exp_mean"}, results=[
        res("dense", "dense", math.exp(2.0), 100, 1.0, [2.0] * 10), res("r-4b", "reconstruct", 8.0, 50, 2.0, [2.1] * 10)])
    ci = bootstrap(rep, samples=20)
    assert ci["accuracy:r-4b"] == pytest.approx((math.exp(2.1), math.exp(2.1)))
    with pytest.raises(ValueError, match="per-unit"):
        bootstrap(Report("toy", "isaac32", "ppl", False, results=[res("dense", "dense", 1.0, 1, 1.0)]))


def test_interval_is_the_central_95_percent():
    assert interval([float(i) for i in range(101)]) == (2.0, 98.0)
