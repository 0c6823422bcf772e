"""Equal-accuracy ratios between method families on their Pareto frontiers, with bootstrap intervals.

A family's frontier is its swept settings plus the reference (any family can leave a model dense), kept
where no other setting is both more accurate and more energy-efficient. At an accuracy bound (the
reference's accuracy less the tolerance), a family reaches, by default, the efficiency of its most efficient
*measured* setting within the bound: a configuration that exists (``interpolate=False``; the next setting beyond
the bound is named beside it). With ``interpolate=True`` it reaches the efficiency found by linear interpolation
between that setting and the next one beyond, which no measured configuration need realise. Crossbars, TOPS/W
and GOPS/mm² are read at the same point. Ours is compared with the strongest other family there (highest TOPS/W).

Intervals: each result may keep its per-unit scores in ``extra["units"]`` (per-sample recall, per-window
loss); the units are resampled with replacement, the same draw for every result (a paired bootstrap), and
accuracies, bound and ratios recomputed. ``report.meta["unit_accuracy"] = "exp_mean"`` turns mean loss
into perplexity.

Example::

    >>> from rram.report import MethodResult, Report
    >>> def res(name, fam, acc, xb, tops):
    ...     return MethodResult(name, acc, {"crossbars": xb, "tops_per_w": tops, "gops_per_mm2": tops},
    ...                         config={"method": {"name": fam}})
    >>> rep = Report("toy", "isaac32", "recall", True, tolerance=0.1, results=[
    ...     res("dense", "dense", 1.0, 100, 1.0), res("ours-4b", "reconstruct", 0.95, 50, 2.0),
    ...     res("ours-2b", "reconstruct", 0.5, 25, 4.0), res("q-6b", "quantize", 0.85, 75, 1.5)])
    >>> eq = equal_accuracy(rep)   # bound 0.9: ours' 4b is within, quantize has only dense within
    >>> eq["ours"]["name"], eq["ours"]["next"], eq["baselines"]["quantize"]["name"], eq["energy_efficiency"]
    ('ours-4b', 'ours-2b', 'dense', 2.0)
    >>> eq = equal_accuracy(rep, interpolate=True)  # ours 1/9 of the way from 4b to 2b, quantize 2/3 from dense to 6b
    >>> round(eq["ours"]["tops_per_w"], 3), round(eq["baselines"]["quantize"]["tops_per_w"], 3)
    (2.222, 1.333)
    >>> eq["baseline"], round(eq["energy_efficiency"], 3), round(eq["compression_crossbars"], 3)
    ('quantize', 1.667, 1.765)
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable

from rram.analysis import OURS, accuracy_bound, family, is_within
from rram.report import Report

COSTS = ("crossbars", "tops_per_w", "gops_per_mm2")


def _accuracies(report: Report, draw: list[int] | None = None) -> dict[str, float]:
    """Each result's accuracy; with ``draw`` (unit indices), recomputed from its resampled units."""
    if draw is None:
        return {r.name: r.accuracy for r in report.results}
    exp = report.meta.get("unit_accuracy") == "exp_mean"
    out = {}
    for r in report.results:
        units = r.extra.get("units")
        if not units:
            raise ValueError(f"result {r.name!r} has no per-unit scores (extra['units']) to bootstrap")
        mean = sum(units[i] for i in draw) / len(draw)
        out[r.name] = math.exp(mean) if exp else mean
    return out


def frontier(report: Report, fam: str, acc: dict[str, float] | None = None) -> list[tuple[float, dict]]:
    """[(accuracy, costs)] of ``fam``'s settings and the reference, non-dominated, by rising TOPS/W."""
    acc = acc or _accuracies(report)
    sign = 1 if report.higher_is_better else -1
    ref = report.get(report.reference)
    pts = [(acc[r.name], {"name": r.name, **{k: r.cost[k] for k in COSTS}})
           for r in report.results if r is ref or family(r) == fam]
    pts.sort(key=lambda p: (p[1]["tops_per_w"], sign * p[0]))
    front: list[tuple[float, dict]] = []
    for a, c in reversed(pts):  # from the most efficient down: keep what is more accurate than all kept so far
        if not front or sign * a > sign * front[-1][0]:
            front.append((a, c))
    return front[::-1]


def at_bound(front: list[tuple[float, dict]], bound: float, higher_is_better: bool, interpolate: bool = True) -> dict | None:
    """Costs where the frontier crosses ``bound``, or of its most efficient point if all are within; None if none is.

    interpolate=False: the costs of the most efficient setting within the bound, with its ``accuracy`` and the
    ``next`` setting beyond it (name and ``next_accuracy``), where the frontier names its points.
    """
    last = None
    for a, c in front:
        if is_within(a, bound, higher_is_better):
            last = (a, c)
            continue
        if last is None:
            return None
        if not interpolate:
            return {**last[1], "accuracy": last[0], "next": c.get("name"), "next_accuracy": a}
        t = (bound - last[0]) / (a - last[0])
        return {k: last[1][k] + t * (c[k] - last[1][k]) for k in COSTS}
    if last is None:
        return None
    return {**last[1], "accuracy": last[0], "next": None} if not interpolate else {k: last[1][k] for k in COSTS}


def bound_of(report: Report, acc: dict[str, float], tolerance: float | None = None, relative: bool | None = None) -> float:
    tol = report.tolerance if tolerance is None else tolerance
    rel = report.relative_tolerance if relative is None else relative
    if tol is None:
        raise ValueError("equal accuracy needs a tolerance (Report.tolerance or the argument)")
    return accuracy_bound(acc[report.reference], tol, rel, report.higher_is_better)


def equal_accuracy(report: Report, ours: str | Iterable[str] = OURS, tolerance: float | None = None,
                   relative: bool | None = None, acc: dict[str, float] | None = None,
                   interpolate: bool = False) -> dict | None:
    """Ours against the strongest other family on the frontiers at the accuracy bound.

    ours: a family, or several (then the one reaching the highest TOPS/W is ours). interpolate: read the
    frontiers between measured settings (see the module docstring); by default each family is at a measured
    setting. Returns None if no other family has results.
    """
    acc = acc or _accuracies(report)
    bound = bound_of(report, acc, tolerance, relative)
    ours_set = {ours} if isinstance(ours, str) else set(ours)
    fams = sorted({family(r) for r in report.results if r.name != report.reference})
    reached = {f: at_bound(frontier(report, f, acc), bound, report.higher_is_better, interpolate) for f in fams}
    mine = {f: reached[f] for f in fams if f in ours_set}
    others = {f: reached[f] for f in fams if f not in ours_set}
    if not mine or not others:
        return None
    sign = 1 if report.higher_is_better else -1

    def strength(point: dict) -> tuple[float, float]:  # TOPS/W; at equal cost, the more accurate measured setting
        return point["tops_per_w"], sign * point.get("accuracy", 0.0)

    best_ours = max(mine, key=lambda f: strength(mine[f]))
    strongest = max(others, key=lambda f: strength(others[f]))
    o, b = mine[best_ours], others[strongest]
    return {"bound": bound, "interpolated": interpolate, "ours_family": best_ours, "ours": o, "baseline": strongest,
            "baselines": others,
            "compression_crossbars": b["crossbars"] / o["crossbars"],
            "energy_efficiency": o["tops_per_w"] / b["tops_per_w"],
            "area_efficiency": o["gops_per_mm2"] / b["gops_per_mm2"]}


def interval(values: list[float], level: float = 0.95) -> tuple[float, float]:
    """The central ``level`` percentile interval of ``values``."""
    v = sorted(values)
    lo = v[int(math.floor((1 - level) / 2 * (len(v) - 1)))]
    hi = v[int(math.ceil((1 + level) / 2 * (len(v) - 1)))]
    return lo, hi


def bootstrap(report: Report, ours: str | Iterable[str] = OURS, samples: int = 1000, seed: int = 0,
              tolerance: float | None = None, relative: bool | None = None, interpolate: bool = False) -> dict:
    """95% intervals of each result's accuracy and relative change against the reference, and, with a
    tolerance, of the equal-accuracy ratios (against the baseline family chosen on the full data; each draw
    re-reads which settings are within the bound)."""
    n = len(report.get(report.reference).extra.get("units") or [])
    if not n:
        raise ValueError("the reference has no per-unit scores (extra['units']) to bootstrap")
    has_tolerance = (report.tolerance if tolerance is None else tolerance) is not None
    point = equal_accuracy(report, ours, tolerance, relative, interpolate=interpolate) if has_tolerance else None
    rng = random.Random(seed)
    draws: dict[str, list[float]] = {}
    ref = report.reference
    for _ in range(samples):
        draw = [rng.randrange(n) for _ in range(n)]
        acc = _accuracies(report, draw)
        for name, a in acc.items():
            draws.setdefault(f"accuracy:{name}", []).append(a)
            draws.setdefault(f"change:{name}", []).append(a / acc[ref] - 1)
        if point:
            eq = equal_accuracy(report, point["ours_family"], tolerance, relative, acc, interpolate)
            b = eq["baselines"].get(point["baseline"]) if eq else None
            if b:
                o = eq["ours"]
                draws.setdefault("compression_crossbars", []).append(b["crossbars"] / o["crossbars"])
                draws.setdefault("energy_efficiency", []).append(o["tops_per_w"] / b["tops_per_w"])
                draws.setdefault("area_efficiency", []).append(o["gops_per_mm2"] / b["gops_per_mm2"])
    return {k: interval(v) for k, v in draws.items()}
