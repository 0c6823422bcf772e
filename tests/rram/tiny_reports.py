"""Hand-made reports for the report, analysis and render tests."""

from rram.report import MethodResult, Report


def cost(xb, tops, gops, e=1.0, area=1.0):
    return {"crossbars": xb, "tops_per_w": tops, "gops_per_mm2": gops, "energy_pj": e, "area_mm2": area}


def ppl_report() -> Report:
    """Perplexity (lower is better), one setting per method."""
    return Report(model="toy", technology="isaac32", metric="ppl", higher_is_better=False, results=[
        MethodResult("dense", 10.0, cost(100, 1.0, 1.0, 100, 10)),
        MethodResult("reconstruct", 10.5, cost(40, 2.5, 2.0, 40, 5)),
        MethodResult("quantize-4b", 12.0, cost(50, 2.0, 1.8, 50, 6)),  # less accurate: not a peer
        MethodResult("block-0.5", 10.4, cost(50, 1.9, 1.7, 52, 6)),
    ])


def sweep_report() -> Report:
    """Recall (higher is better), a sweep per method, equal accuracy within 1% relative."""
    def res(name, fam, acc, xb, tops):
        return MethodResult(name, acc, cost(xb, tops, tops), config={"method": {"name": fam}},
                            extra={"metrics": {"recall@10": acc / 2}})

    return Report(model="toy", technology="isaac32", metric="recall", higher_is_better=True, tolerance=0.01, results=[
        res("dense", "dense", 0.50, 100, 1.0),
        res("reconstruct-4b", "reconstruct", 0.498, 50, 2.0),  # within 1% relative (0.495)
        res("reconstruct-2b", "reconstruct", 0.40, 25, 4.0),  # too inaccurate
        res("quantize-4b", "quantize", 0.49, 50, 2.0),  # too inaccurate
        res("magnitude-0.1", "magnitude", 0.50, 100, 1.1),
        res("magnitude-0.25", "magnitude", 0.496, 98, 1.2),
    ])
