"""What fusion tuning and ranker selection maximise: Recall@1 + Recall@10 + Recall@50 of the final list.

>>> objective(["a", "gold", "b"], ["gold"])
2.0
"""

from __future__ import annotations

from collections.abc import Sequence

OBJECTIVE = "mean Recall@1 + Recall@10 + Recall@50"


def objective(ranked: Sequence[str], gold: Sequence[str]) -> float:
    """Recall@1 + Recall@10 + Recall@50 of one sample."""
    gold = set(gold)
    return sum(sum(item in gold for item in ranked[:k]) for k in (1, 10, 50)) / max(len(gold), 1)
