"""The demo's cost panel: what the selected backbone costs per token and per turn on simulated crossbars, next to
the dense backbone, from the ``rram`` cost summaries each backbone carries.

>>> saving(2.0, 1.0), saving(1.0, 1.0)
('2.00× less', 'same')
"""

from __future__ import annotations

from collections.abc import Callable

from llmkb.app.session import Engine, Session


def saving(dense: float, selected: float) -> str:
    return f"{dense / selected:.2f}× less" if selected and dense != selected else "same"


def cost_rows(engine: Engine, session: Session) -> list[tuple[str, str, str, str]]:
    """(measure, dense, this backbone, saving) rows for the cost panel; per-turn figures use ``session.tokens``.
    A pruned component adds its accuracy, measured against a dense copy given the same retraining."""
    bb, rows = engine.backbone, []

    def pick(kind: str, which: str) -> dict:
        return bb.costs[kind]["rram" if which == "selected" and kind in bb.pruned else "dense"]

    def add(label: str, fn: Callable[[str], float], fmt: str) -> None:
        dense, selected = fn("dense"), fn("selected")
        rows.append((label, fmt.format(dense), fmt.format(selected), saving(dense, selected)))

    used = ["retriever", "llm"] if engine.uses_llm else ["retriever"]
    for kind in ("retriever", "llm"):
        name = "Retriever" if kind == "retriever" else "LLM" + ("" if kind in used else " (not used: template replies)")
        add(f"{name}: crossbars", lambda w, k=kind: pick(k, w)["crossbars"], "{:,.0f}")
        add(f"{name}: energy per token (nJ)", lambda w, k=kind: pick(k, w)["energy_pj"] / 1e3, "{:,.1f}")
        add(f"{name}: area (mm²)", lambda w, k=kind: pick(k, w)["area_mm2"], "{:,.2f}")
    for kind in bb.pruned:
        measured = bb.costs[kind]["accuracy"]
        better = "lower" if "perplexity" in measured["metric"] else "higher"
        reference = measured.get("reference", "float weights")
        note = "" if reference == "float weights" else f"; {reference}"
        rows.append((f"{'Retriever' if kind == 'retriever' else 'LLM'}: {measured['metric']} ({better} is better{note})",
                     f"{measured['dense']:.4g}", f"{measured['pruned']:.4g}",
                     f"{measured['change']:+.1%} ({'within' if measured['within_tolerance'] else 'outside'} "
                     f"{measured['tolerance']:.0%})"))
    tokens = session.tokens
    if tokens:
        add(f"Latency this turn (ms; {', '.join(f'{n} {k} tokens' for k, n in tokens.items() if k in used)})",
            lambda w: sum(pick(k, w)["latency_ns"] * n for k, n in tokens.items() if k in used) / 1e6, "{:,.1f}")
        add("Energy this turn (mJ)",
            lambda w: sum(pick(k, w)["energy_pj"] * n for k, n in tokens.items() if k in used) / 1e9, "{:,.2f}")
    return rows
