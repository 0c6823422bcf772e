"""What fusion tuning and ranker selection maximise: Recall@1 + Recall@10 + Recall@50 of the final list.

>>> objective(["a", "gold", "b"], ["gold"])
2.0
"""

from __future__ import annotations

from collections.abc import Sequence

OBJECTIVE = "mean Recall@1 + Recall@10 + Recall@50"
CUTOFFS = (1, 10, 50)
DEPTH = max(CUTOFFS)  # how much of a list the objective reads


def objective(ranked: Sequence[str], gold: Sequence[str]) -> float:
    """Recall@1 + Recall@10 + Recall@50 of one sample."""
    gold = set(gold)
    return sum(sum(item in gold for item in ranked[:k]) for k in CUTOFFS) / max(len(gold), 1)
