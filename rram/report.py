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

    def to_dict(self) -> dict:
        d = asdict(self)
        d["ratios_vs_dense"] = {r.name: self.ratios(r.name) for r in self.results if r.name != self.reference}
        d["headline"] = self.headline() if any(r.name == "reconstruct" for r in self.results) else None
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
    head = report.headline() if any(r.name == "reconstruct" for r in report.results) else None
    if head:
        lines += ["", f"**Headline** vs strongest equally-accurate baseline ({head['baseline']}): "
                  f"compression {_x(head['compression_crossbars'])}, energy efficiency {_x(head['energy_efficiency'])}, "
                  f"area efficiency {_x(head['area_efficiency'])}; accuracy change vs dense {head['accuracy_change_vs_dense']:+.4f}."]
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
