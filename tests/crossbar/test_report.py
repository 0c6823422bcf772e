"""Report ratios, headline selection and the written files."""

import json

from rram.report import MethodResult, Report, write_all


def cost(xb, tops, gops, e=1.0, area=1.0):
    return {"crossbars": xb, "tops_per_w": tops, "gops_per_mm2": gops, "energy_pj": e, "area_mm2": area}


def make_report():
    return Report(model="toy", technology="isaac32", metric="ppl", higher_is_better=False, results=[
        MethodResult("dense", 10.0, cost(100, 1.0, 1.0, 100, 10)),
        MethodResult("reconstruct", 10.5, cost(40, 2.5, 2.0, 40, 5)),
        MethodResult("quantize-4b", 12.0, cost(50, 2.0, 1.8, 50, 6)),  # less accurate: not a peer
        MethodResult("block-0.5", 10.4, cost(50, 1.9, 1.7, 52, 6)),
    ])


def test_ratios_and_headline_at_equal_accuracy():
    r = make_report()
    assert r.ratios("reconstruct")["compression_crossbars"] == 2.5
    assert r.ratios("reconstruct")["accuracy_change"] == 0.5
    h = r.headline()
    assert h["baseline"] == "block-0.5"
    assert h["energy_efficiency"] == 2.5 / 1.9
    assert r.headline(tolerance=0.0) is not None


def test_write_all(tmp_path):
    files = write_all(make_report(), tmp_path)
    data = json.loads(files["json"].read_text())
    assert data["headline"]["baseline"] == "block-0.5"
    assert "| reconstruct |" in files["md"].read_text()
    assert files["png"].stat().st_size > 1000


def sweep_report():
    def res(name, fam, acc, xb, tops):
        return MethodResult(name, acc, cost(xb, tops, tops), config={"method": {"name": fam}})

    return Report(model="toy", technology="isaac32", metric="recall", higher_is_better=True, tolerance=0.01, results=[
        res("dense", "dense", 0.50, 100, 1.0),
        res("reconstruct-4b", "reconstruct", 0.498, 50, 2.0),  # within 1% relative (0.495)
        res("reconstruct-2b", "reconstruct", 0.40, 25, 4.0),  # too inaccurate
        res("quantize-4b", "quantize", 0.49, 50, 2.0),  # too inaccurate
        res("magnitude-0.1", "magnitude", 0.50, 100, 1.1),
        res("magnitude-0.25", "magnitude", 0.496, 98, 1.2),
    ])


def test_operating_points_pick_the_most_aggressive_setting_within_tolerance():
    r = sweep_report()
    pts = r.operating_points()
    assert {f: p.name for f, p in pts.items()} == {
        "dense": "dense", "reconstruct": "reconstruct-4b", "magnitude": "magnitude-0.25"}
    eq = r.equal_accuracy()
    assert eq["ours"] == "reconstruct-4b" and eq["baseline"] == "magnitude-0.25"
    assert eq["energy_efficiency"] == 2.0 / 1.2 and eq["compression_crossbars"] == 98 / 50
    assert eq["missing"] == ["quantize"]
    assert abs(eq["accuracy_change_vs_dense"] + 0.002) < 1e-12
    # lower-is-better metrics: within 2% perplexity
    ppl = Report(model="toy", technology="isaac32", metric="ppl", higher_is_better=False, results=r.results)
    assert ppl.within(MethodResult("x", 0.509, {}), 0.02) and not ppl.within(MethodResult("x", 0.511, {}), 0.02)


def test_equal_accuracy_in_written_report(tmp_path):
    files = write_all(sweep_report(), tmp_path)
    data = json.loads(files["json"].read_text())
    assert data["equal_accuracy"]["baseline"] == "magnitude-0.25"
    md = files["md"].read_text()
    assert "Equal accuracy" in md and "none within tolerance: quantize" in md
