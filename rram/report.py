"""Reports as plain data: one ``MethodResult`` per method of one run, saved as and loaded from JSON.

What the numbers mean (ratios, operating points) is in ``rram.analysis``; tables and plots in ``rram.render``.

Example::

    >>> import tempfile, pathlib
    >>> from rram.report import MethodResult, Report, load_json, save_json
    >>> r = Report(model="tiny", technology="isaac32", metric="recall@10", higher_is_better=True, results=[
    ...     MethodResult("dense", 0.90, {"crossbars": 100, "energy_pj": 10.0, "tops_per_w": 1.0, "gops_per_mm2": 1.0}),
    ...     MethodResult("reconstruct", 0.89, {"crossbars": 50, "energy_pj": 5.0, "tops_per_w": 2.0, "gops_per_mm2": 3.0}),
    ... ])
    >>> path = save_json(r, pathlib.Path(tempfile.mkdtemp()) / "report.json")
    >>> load_json(path) == r, r.get("reconstruct").cost["crossbars"]
    (True, 50)
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from rram.files import atomic_write


@dataclass
class MethodResult:
    """One method's accuracy, cost summary (``ModelCost.summary()``) and per-layer rows."""

    name: str
    accuracy: float | None
    cost: dict
    layers: list[dict] = field(default_factory=list)
    config: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


@dataclass
class Report:
    """One run: what was measured (metric, direction), on what, and every method's result.

    reference: the result every ratio is taken against. tolerance / relative_tolerance: what "equal
    accuracy" means for this run (within ``tolerance`` of the reference, as a fraction of its accuracy
    when relative); see ``rram.analysis.operating_points``.
    """

    model: str
    technology: str
    metric: str
    higher_is_better: bool
    results: list[MethodResult]
    reference: str = "dense"
    meta: dict = field(default_factory=dict)
    tolerance: float | None = None
    relative_tolerance: bool = True

    def get(self, name: str) -> MethodResult:
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(f"no result named {name!r}; have {[r.name for r in self.results]}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Report:
        """A report from ``to_dict`` output or a saved report.json (derived entries such as ``headline`` are ignored)."""
        known = {f.name for f in fields(cls)} - {"results"}
        return cls(results=[MethodResult(**r) for r in d["results"]], **{k: v for k, v in d.items() if k in known})


def save_json(report: Report, path: str | Path, derived: dict | None = None) -> Path:
    """Write ``report`` (plus ``derived`` top-level entries, e.g. ``rram.analysis.summary``) atomically."""
    return atomic_write(path, json.dumps({**report.to_dict(), **(derived or {})}, indent=2, default=float))


def load_json(path: str | Path) -> Report:
    return Report.from_dict(json.loads(Path(path).read_text()))


def merge(reports: list[Report], suffixes: list[str] | None = None, metric: str | None = None) -> Report:
    """One report from several runs of the same model, results keyed by label.

    The first report's reference, metric and tolerance are used; a later report's result whose label is
    already present is skipped (so re-running dense is harmless: merge only runs whose dense results agree).
    suffixes: appended to each report's labels except the reference (e.g. ``"+cal"``). metric: use that entry
    of ``extra["metrics"]`` as the accuracy instead (e.g. ``"recall@10"``).
    """
    suffixes = suffixes or [""] * len(reports)
    seen, results = set(), []
    for rep, suffix in zip(reports, suffixes, strict=True):
        for r in rep.results:
            name = r.name + suffix if suffix and r.name != rep.reference else r.name
            if name in seen:
                continue
            seen.add(name)
            accuracy = r.extra["metrics"][metric] if metric else r.accuracy
            results.append(MethodResult(**{**asdict(r), "name": name, "accuracy": accuracy}))
    first = reports[0]
    return Report(model=first.model, technology=first.technology, metric=metric or first.metric,
                  higher_is_better=first.higher_is_better, results=results, reference=first.reference,
                  meta=first.meta, tolerance=first.tolerance, relative_tolerance=first.relative_tolerance)
