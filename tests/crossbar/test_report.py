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
