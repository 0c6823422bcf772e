"""Metrics of PROTOCOLS.md.

Recall@k (primary): per sample, the fraction of its gold items in its top k; then the mean over samples.
NDCG@k and MRR@k: per (sample, gold) pair with one relevant item, averaged per sample, then over samples.
Pair recall@k (secondary, UniCRS/CRSLab style): pairs whose gold is in the top k / all pairs.

>>> sample_metrics(["a", "b", "c"], ["b", "z"])["recall@1"], sample_metrics(["a", "b", "c"], ["b", "z"])["recall@10"]
(0.0, 0.5)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

RECALL_KS = (1, 10, 50)
NDCG_KS = (10, 50)
MRR_K = 50


def sample_metrics(ranked: Sequence[str], gold: Sequence[str]) -> dict[str, float]:
    position = {item: rank for rank, item in enumerate(ranked, start=1)}
    ranks = [position.get(g) for g in gold]
    out = {}
    for k in RECALL_KS:
        hits = sum(r is not None and r <= k for r in ranks)
        out[f"recall@{k}"] = hits / len(gold)
        out[f"pair_hits@{k}"] = hits
    for k in NDCG_KS:
        out[f"ndcg@{k}"] = sum(1 / math.log2(r + 1) for r in ranks if r is not None and r <= k) / len(gold)
    out[f"mrr@{MRR_K}"] = sum(1 / r for r in ranks if r is not None and r <= MRR_K) / len(gold)
    out["pairs"] = len(gold)
    return out


def aggregate(per_sample: list[dict[str, float]]) -> dict[str, float]:
    n = len(per_sample)
    if n == 0:
        return {"samples": 0, "pairs": 0}
    pairs = sum(m["pairs"] for m in per_sample)
    result = {"samples": n, "pairs": pairs}
    for key in [f"recall@{k}" for k in RECALL_KS] + [f"ndcg@{k}" for k in NDCG_KS] + [f"mrr@{MRR_K}"]:
        result[key] = sum(m[key] for m in per_sample) / n
    for k in RECALL_KS:
        result[f"pair_recall@{k}"] = sum(m[f"pair_hits@{k}"] for m in per_sample) / pairs
    return result
