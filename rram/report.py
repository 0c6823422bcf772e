"""Reports as plain data: one ``MethodResult`` per method, ratios against dense, JSON, markdown, Pareto plot.

Example::

    >>> from rram.report import MethodResult, Report
    >>> r = Report(model="tiny", technology="isaac32", metric="recall@10", higher_is_better=True, results=[
    ...     MethodResult("dense", 0.90, {"crossbars": 100, "energy_pj": 10.0, "tops_per_w": 1.0, "gops_per_mm2": 1.0}),
    ...     MethodResult("reconstruct", 0.89, {"crossbars": 50, "energy_pj": 5.0, "tops_per_w": 2.0, "gops_per_mm2": 3.0}),
    ... ])
    >>> r.ratios("reconstruct")["compression_crossbars"]
    2.0
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path


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
    model: str
    technology: str
    metric: str
    higher_is_better: bool
    results: list[MethodResult]
    reference: str = "dense"
    meta: dict = field(default_factory=dict)
    tolerance: float | None = None  # "equal accuracy": within this of the reference (see operating_points)
    relative_tolerance: bool = True  # tolerance as a fraction of the reference's accuracy

    def get(self, name: str) -> MethodResult:
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(f"no result named {name!r}; have {[r.name for r in self.results]}")

    def ratios(self, name: str, against: str | None = None) -> dict:
        """Compression, energy- and area-efficiency ratios of ``name`` over ``against`` (default dense)."""
        ref, r = self.get(against or self.reference), self.get(name)
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

    def headline(self, ours: str = "reconstruct", tolerance: float = 0.0) -> dict | None:
        """Ours vs the most energy-efficient baseline whose accuracy is at least ours (− tolerance).

        Returns None when accuracies are missing or no baseline is as accurate.
        """
        o = self.get(ours)
        if o.accuracy is None:
            return None
        sign = 1 if self.higher_is_better else -1
        peers = [
            r for r in self.results
            if r.name not in (ours, self.reference) and r.accuracy is not None
            and sign * (r.accuracy - o.accuracy) >= -tolerance
        ]
        if not peers:
            return None
        best = max(peers, key=lambda r: r.cost["tops_per_w"])
        return {"ours": ours, "baseline": best.name, **self.ratios(ours, best.name),
                "accuracy_change_vs_dense": self.ratios(ours).get("accuracy_change")}

    @staticmethod
    def family(r: MethodResult) -> str:
        """The method a result belongs to (its config's method name; else the label before the first "-")."""
        return (r.config.get("method") or {}).get("name") or r.name.split("-")[0]

    def within(self, r: MethodResult, tolerance: float, relative: bool = True) -> bool:
        """Whether ``r`` is at most ``tolerance`` (a fraction of the reference if ``relative``) worse than the reference."""
        ref = self.get(self.reference).accuracy
        if r.accuracy is None or ref is None:
            return False
        slack = tolerance * abs(ref) if relative else tolerance
        sign = 1 if self.higher_is_better else -1
        return sign * (r.accuracy - ref) >= -slack - 1e-12

    def operating_points(self, tolerance: float | None = None, relative: bool | None = None) -> dict[str, MethodResult]:
        """Per method family, its most aggressive setting that keeps accuracy within tolerance of the reference.

        Most aggressive = highest TOPS/W (least energy per token), ties → fewest crossbars. The reference
        itself is the "dense" family's point. Families with no setting within tolerance are absent.
        """
        tol = self.tolerance if tolerance is None else tolerance
        rel = self.relative_tolerance if relative is None else relative
        if tol is None:
            raise ValueError("operating_points needs a tolerance (Report.tolerance or the argument)")
        best: dict[str, MethodResult] = {}
        for r in self.results:
            if not self.within(r, tol, rel):
                continue
            f = self.family(r)
            key = (r.cost["tops_per_w"], -r.cost["crossbars"])
            if f not in best or key > (best[f].cost["tops_per_w"], -best[f].cost["crossbars"]):
                best[f] = r
        return best

    def equal_accuracy(self, ours: str = "reconstruct", tolerance: float | None = None,
                       relative: bool | None = None) -> dict | None:
        """Ours vs every baseline at equal accuracy: each at its operating point (see ``operating_points``).

        ``baseline`` is the strongest one: the highest TOPS/W at its operating point. Returns None when
        no tolerance is set or ours has no setting within tolerance.
        """
        tol = self.tolerance if tolerance is None else tolerance
        rel = self.relative_tolerance if relative is None else relative
        if tol is None:
            return None
        points = self.operating_points(tol, rel)
        if ours not in points:
            return None
        o = points[ours]
        others = {f: r for f, r in points.items() if f != ours}
        per = {f: {"point": r.name, "accuracy": r.accuracy, **self.ratios(o.name, r.name)} for f, r in others.items()}
        strongest = max(others.values(), key=lambda r: (r.cost["tops_per_w"], -r.cost["crossbars"])) if others else None
        return {
            "tolerance": tol, "relative": rel, "ours": o.name, "ours_accuracy": o.accuracy,
            "baseline": strongest.name if strongest else None,
            **({k: v for k, v in self.ratios(o.name, strongest.name).items() if k != "accuracy_change"} if strongest else {}),
            "accuracy_change_vs_dense": self.ratios(o.name).get("accuracy_change"),
            "points": {f: r.name for f, r in points.items()}, "per_baseline": per,
            "missing": sorted({self.family(r) for r in self.results} - set(points)),
        }

    def to_dict(self) -> dict:
        d = asdict(self)
        d["ratios_vs_dense"] = {r.name: self.ratios(r.name) for r in self.results if r.name != self.reference}
        d["headline"] = self.headline() if any(r.name == "reconstruct" for r in self.results) else None
        d["equal_accuracy"] = self.equal_accuracy()
        return d


def write_json(report: Report, path: str | Path) -> Path:
    return _atomic_text(Path(path), json.dumps(report.to_dict(), indent=2, default=float))


def markdown(report: Report, layers_of: str | None = "reconstruct", max_layers: int = 12) -> str:
    """Method table (accuracy, cost, ratios vs dense) and, for one method, its first per-layer rows."""
    lines = [
        f"# {report.model} on {report.technology} ({report.metric}, {'higher' if report.higher_is_better else 'lower'} is better)",
        "",
        "| method | accuracy | crossbars | energy/token (nJ) | area (mm²) | TOPS/W | GOPS/mm² | compression | energy eff. | area eff. |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report.results:
        ra = report.ratios(r.name) if r.name != report.reference else {}
        acc = "—" if r.accuracy is None else f"{r.accuracy:.4f}"
        c = r.cost
        lines.append(
            f"| {r.name} | {acc} | {c['crossbars']:,} | {c['energy_pj'] / 1e3:.1f} | {c['area_mm2']:.2f} | "
            f"{c['tops_per_w']:.3f} | {c['gops_per_mm2']:.2f} | {_x(ra.get('compression_crossbars'))} | "
            f"{_x(ra.get('energy_efficiency'))} | {_x(ra.get('area_efficiency'))} |"
        )
    eq = report.equal_accuracy()
    if eq:
        tol = f"{eq['tolerance']:.0%} relative" if eq["relative"] else f"{eq['tolerance']:g}"
        lines += ["", f"## Equal accuracy (within {tol} of {report.reference})", "",
                  f"Operating points (most aggressive setting within tolerance, per method): "
                  + ", ".join(f"{f}: {n}" for f, n in eq["points"].items())
                  + (f"; none within tolerance: {', '.join(eq['missing'])}" if eq["missing"] else "") + ".", "",
                  f"| ours ({eq['ours']}) vs | its point | its accuracy | compression | energy eff. | area eff. |",
                  "|---|---|---|---|---|---|"]
        for f, row in eq["per_baseline"].items():
            lines.append(f"| {f} | {row['point']} | {row['accuracy']:.4f} | {_x(row['compression_crossbars'])} | "
                         f"{_x(row['energy_efficiency'])} | {_x(row['area_efficiency'])} |")
        if eq["baseline"]:
            lines += ["", f"**Headline** vs the strongest baseline at equal accuracy ({eq['baseline']}): "
                      f"compression {_x(eq['compression_crossbars'])}, energy efficiency {_x(eq['energy_efficiency'])}, "
                      f"area efficiency {_x(eq['area_efficiency'])}; accuracy change vs dense {eq['accuracy_change_vs_dense']:+.4f}."]
    head = report.headline() if any(r.name == "reconstruct" for r in report.results) else None
    if head and not eq:
        lines += ["", f"**Headline** vs strongest equally-accurate baseline ({head['baseline']}): "
                  f"compression {_x(head['compression_crossbars'])}, energy efficiency {_x(head['energy_efficiency'])}, "
                  f"area efficiency {_x(head['area_efficiency'])}; accuracy change vs dense {head['accuracy_change_vs_dense']:+.4f}."]
    if layers_of and eq and not any(r.name == layers_of for r in report.results):
        layers_of = eq["ours"]
    if layers_of and any(r.name == layers_of for r in report.results):
        rows = report.get(layers_of).layers[:max_layers]
        lines += ["", f"## Per-layer ({layers_of}, first {len(rows)})", "",
                  "| layer | in | out | bits | crossbars | ADC bits | energy (pJ) | area (µm²) |", "|---|---|---|---|---|---|---|---|"]
        for row in rows:
            lines.append(f"| {row['name']} | {row['in_features']} | {row['out_features']} | {row['bits']} | {row['crossbars']} | "
                         f"{row['adc_bits_max']} | {row['energy_pj_total']:.0f} | {row['area_um2_total']:.0f} |")
    return "\n".join(lines) + "\n"


def _x(v) -> str:
    return "—" if v is None else f"{v:.2f}×"


def pareto_plot(report: Report, path: str | Path) -> Path:
    """Accuracy vs energy per token and vs area, one point per method (matplotlib Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pts = [r for r in report.results if r.accuracy is not None]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key, label in ((axes[0], "energy_pj", "energy per token (nJ)"), (axes[1], "area_mm2", "area (mm²)")):
        scale = 1e-3 if key == "energy_pj" else 1.0
        for r in pts:
            ax.scatter(r.cost[key] * scale, r.accuracy, s=40, marker="*" if r.name.startswith("reconstruct") else "o")
            ax.annotate(r.name, (r.cost[key] * scale, r.accuracy), fontsize=7, xytext=(3, 3), textcoords="offset points")
        front = _front(pts, key, report.higher_is_better)
        ax.plot([r.cost[key] * scale for r in front], [r.accuracy for r in front], "k--", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel(report.metric)
    fig.suptitle(f"{report.model} — {report.technology}")
    fig.tight_layout()
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".png")
    os.close(fd)
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, path)
    return path


def _front(points: list[MethodResult], key: str, higher_is_better: bool) -> list[MethodResult]:
    """Pareto-optimal points: no other point is cheaper and at least as accurate."""
    sign = 1 if higher_is_better else -1
    ordered = sorted(points, key=lambda r: (r.cost[key], -sign * r.accuracy))
    front, best = [], None
    for r in ordered:
        if best is None or sign * r.accuracy > sign * best:
            front.append(r)
            best = r.accuracy
    return front


def _atomic_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    return path


def write_all(report: Report, out_dir: str | Path) -> dict[str, Path]:
    """report.json, report.md and pareto.png in ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return {
        "json": write_json(report, out / "report.json"),
        "md": _atomic_text(out / "report.md", markdown(report)),
        "png": pareto_plot(report, out / "pareto.png"),
    }
