"""What a report's numbers say: ratios against a reference, operating points, ours against baselines at equal accuracy.

"Ours" is a method family (``"reconstruct"`` by default): the family whose operating point is compared
with every other family's.

Example::

    >>> from rram.analysis import equal_accuracy, ratios
    >>> from rram.report import MethodResult, Report
    >>> def res(name, acc, crossbars, tops):
    ...     cost = {"crossbars": crossbars, "tops_per_w": tops, "gops_per_mm2": tops}
    ...     return MethodResult(name, acc, cost, config={"method": {"name": name.split("-")[0]}})
    >>> rep = Report("toy", "isaac32", "recall", True, tolerance=0.01, results=[
    ...     res("dense", 0.50, 100, 1.0), res("reconstruct-4b", 0.498, 50, 2.0), res("magnitude-0.25", 0.496, 98, 1.2)])
    >>> ratios(rep, "reconstruct-4b")["compression_crossbars"]
    2.0
    >>> eq = equal_accuracy(rep)
    >>> eq["ours"], eq["baseline"], round(eq["energy_efficiency"], 3)
    ('reconstruct-4b', 'magnitude-0.25', 1.667)
"""

from __future__ import annotations

from rram.methods import family_name
from rram.report import MethodResult, Report

OURS = "reconstruct"


def ratios(report: Report, name: str, against: str | None = None) -> dict:
    """Compression, energy- and area-efficiency ratios of ``name`` over ``against`` (default the reference)."""
    ref, r = report.get(against or report.reference), report.get(name)
    out = {
        "compression_crossbars": ref.cost["crossbars"] / max(r.cost["crossbars"], 1),
        "energy_efficiency": r.cost["tops_per_w"] / ref.cost["tops_per_w"],
        "area_efficiency": r.cost["gops_per_mm2"] / ref.cost["gops_per_mm2"] if ref.cost["gops_per_mm2"] else None,
    }
    if "programmed_cells" in r.cost and "programmed_cells" in ref.cost:
        out["compression_cells"] = ref.cost["programmed_cells"] / max(r.cost["programmed_cells"], 1)
    if r.accuracy is not None and ref.accuracy is not None:
        out["accuracy_change"] = r.accuracy - ref.accuracy
    return out


def headline(report: Report, ours: str = OURS, tolerance: float = 0.0) -> dict | None:
    """Result ``ours`` vs the most energy-efficient other result whose accuracy is at least ours (− tolerance).

    Returns None when accuracies are missing or no other result is as accurate.
    """
    o = report.get(ours)
    if o.accuracy is None:
        return None
    sign = 1 if report.higher_is_better else -1
    peers = [
        r for r in report.results
        if r.name not in (ours, report.reference) and r.accuracy is not None
        and sign * (r.accuracy - o.accuracy) >= -tolerance
    ]
    if not peers:
        return None
    best = max(peers, key=lambda r: r.cost["tops_per_w"])
    return {"ours": ours, "baseline": best.name, **ratios(report, ours, best.name),
            "accuracy_change_vs_dense": ratios(report, ours).get("accuracy_change")}


def family(r: MethodResult) -> str:
    """The method family a result belongs to (from its config's method; else the label before the first "-")."""
    method = r.config.get("method") or {}
    if "name" not in method:
        return r.name.split("-")[0]
    return family_name(method["name"], method.get("compensate", False), method.get("clip_search", False))


def accuracy_bound(reference: float, tolerance: float, relative: bool, higher_is_better: bool) -> float:
    """The worst accuracy still equal to ``reference``: ``tolerance`` (a fraction of it if ``relative``) away."""
    slack = tolerance * abs(reference) if relative else tolerance
    return reference - slack if higher_is_better else reference + slack


def is_within(accuracy: float, bound: float, higher_is_better: bool) -> bool:
    return (accuracy - bound if higher_is_better else bound - accuracy) >= -1e-12


def within(report: Report, r: MethodResult, tolerance: float, relative: bool = True) -> bool:
    """Whether ``r`` is at most ``tolerance`` (a fraction of the reference if ``relative``) worse than the reference."""
    ref = report.get(report.reference).accuracy
    if r.accuracy is None or ref is None:
        return False
    bound = accuracy_bound(ref, tolerance, relative, report.higher_is_better)
    return is_within(r.accuracy, bound, report.higher_is_better)


def _tolerance(report: Report, tolerance: float | None, relative: bool | None) -> tuple[float | None, bool]:
    return (report.tolerance if tolerance is None else tolerance,
            report.relative_tolerance if relative is None else relative)


def _aggressiveness(r: MethodResult) -> tuple[float, int]:
    return r.cost["tops_per_w"], -r.cost["crossbars"]


def operating_points(report: Report, tolerance: float | None = None, relative: bool | None = None) -> dict[str, MethodResult]:
    """Per method family, its most aggressive setting that keeps accuracy within tolerance of the reference.

    Most aggressive = highest TOPS/W (least energy per token), ties → fewest crossbars. The reference
    itself is the "dense" family's point. Families with no setting within tolerance are absent.
    tolerance / relative default to the report's.
    """
    tol, rel = _tolerance(report, tolerance, relative)
    if tol is None:
        raise ValueError("operating_points needs a tolerance (Report.tolerance or the argument)")
    best: dict[str, MethodResult] = {}
    for r in report.results:
        if not within(report, r, tol, rel):
            continue
        f = family(r)
        if f not in best or _aggressiveness(r) > _aggressiveness(best[f]):
            best[f] = r
    return best


def equal_accuracy(report: Report, ours: str = OURS, tolerance: float | None = None,
                   relative: bool | None = None) -> dict | None:
    """Family ``ours`` vs every other family at equal accuracy, each at its operating point.

    ``baseline`` is the strongest one: the highest TOPS/W at its operating point. Returns None when
    no tolerance is set or ours has no setting within tolerance.
    """
    tol, rel = _tolerance(report, tolerance, relative)
    if tol is None:
        return None
    points = operating_points(report, tol, rel)
    if ours not in points:
        return None
    o = points[ours]
    others = {f: r for f, r in points.items() if f != ours}
    per = {f: {"point": r.name, "accuracy": r.accuracy, **ratios(report, o.name, r.name)} for f, r in others.items()}
    strongest = max(others.values(), key=_aggressiveness) if others else None
    vs_strongest = ratios(report, o.name, strongest.name) if strongest else {}
    return {
        "tolerance": tol, "relative": rel, "ours": o.name, "ours_accuracy": o.accuracy,
        "baseline": strongest.name if strongest else None,
        **{k: v for k, v in vs_strongest.items() if k != "accuracy_change"},
        "accuracy_change_vs_dense": ratios(report, o.name).get("accuracy_change"),
        "points": {f: r.name for f, r in points.items()}, "per_baseline": per,
        "missing": sorted({family(r) for r in report.results} - set(points)),
    }


def summary(report: Report, ours: str = OURS) -> dict:
    """The derived entries written next to a report in report.json: ratios vs the reference, headline, equal accuracy."""
    has_ours = any(r.name == ours for r in report.results)
    return {
        "ratios_vs_dense": {r.name: ratios(report, r.name) for r in report.results if r.name != report.reference},
        "headline": headline(report, ours) if has_ours else None,
        "equal_accuracy": equal_accuracy(report, ours),
    }
