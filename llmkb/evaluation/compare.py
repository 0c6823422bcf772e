"""Two prediction files of the same samples, compared: each one's Recall@k and the paired difference with its
standard error (the samples are the same, so the difference's spread is what decides whether two runs differ).

``llmkb compare --dataset D --protocol P [--split S] A.predictions.jsonl B.predictions.jsonl``

>>> golds = {"s1": ("a",), "s2": ("b",)}
>>> row = compare_rankings({"s1": ["a"], "s2": ["x"]}, {"s1": ["x"], "s2": ["x"]}, golds)[1]
>>> row["a"], row["b"], row["difference"]
(0.5, 0.0, 0.5)
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from llmkb.errors import LLMKBError
from llmkb.evaluation.metrics import RECALL_KS, sample_metrics


def read_predictions(path: Path) -> dict[str, list[str]]:
    try:
        rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
        return {row["sample_id"]: list(row["ranked"]) for row in rows}
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise LLMKBError(f"cannot read predictions from {path} ({error}); `llmkb evaluate` writes them") from error


def compare_rankings(a: Mapping[str, Sequence[str]], b: Mapping[str, Sequence[str]],
                     golds: Mapping[str, Sequence[str]]) -> dict[int, dict]:
    """Per k of ``RECALL_KS``: mean Recall@k of ``a`` and ``b`` over the samples of ``golds``, their difference
    (a − b) with its paired standard error, and the standard error of ``a``'s own mean."""
    missing = [s for s in golds if s not in a or s not in b]
    if missing:
        raise LLMKBError(f"{len(missing)} samples (e.g. {missing[0]}) lack a prediction in one of the files; "
                         "compare files of the same dataset, protocol and split")
    rows = {}
    for k in RECALL_KS:
        pairs = [(sample_metrics(a[s], g)[f"recall@{k}"], sample_metrics(b[s], g)[f"recall@{k}"])
                 for s, g in golds.items()]
        n = len(pairs)
        rows[k] = {"a": sum(x for x, _ in pairs) / n, "b": sum(y for _, y in pairs) / n,
                   "difference": sum(x - y for x, y in pairs) / n,
                   "standard_error": _standard_error([x - y for x, y in pairs]),
                   "standard_error_a": _standard_error([x for x, _ in pairs]), "samples": n}
    return rows


def _standard_error(values: Sequence[float]) -> float:
    n = len(values)
    mean = sum(values) / n
    return math.sqrt(sum((v - mean) ** 2 for v in values) / max(n - 1, 1) / n)


def format_comparison(rows: Mapping[int, Mapping]) -> str:
    lines = [f"{'':10}{'A':>8}{'B':>8}{'A − B':>9}{'paired SE':>11}{'SE of A':>9}"]
    for k, row in rows.items():
        lines.append(f"Recall@{k:<3}{row['a']:>8.4f}{row['b']:>8.4f}{row['difference']:>+9.4f}"
                     f"{row['standard_error']:>11.4f}{row['standard_error_a']:>9.4f}")
    return "\n".join(lines)
