import math

import pytest

from llmkb.evaluation.metrics import aggregate, sample_metrics


def test_recall_ndcg_mrr_by_hand():
    ranked = ["a", "b", "c", "d"] + [f"x{i}" for i in range(46)]
    m = sample_metrics(ranked, ["b", "d", "zz"])  # ranks 2, 4, absent
    assert m["recall@1"] == 0
    assert m["recall@10"] == pytest.approx(2 / 3)
    assert m["ndcg@10"] == pytest.approx((1 / math.log2(3) + 1 / math.log2(5)) / 3)
    assert m["mrr@50"] == pytest.approx((1 / 2 + 1 / 4) / 3)
    assert m["pair_hits@10"] == 2 and m["pairs"] == 3


def test_recall_is_averaged_per_sample_and_pair_recall_per_pair():
    a = sample_metrics(["g1"] + ["n"] * 49, ["g1"])  # 1 of 1
    b = sample_metrics(["n"] * 50, ["g2", "g3", "g4"])  # 0 of 3
    result = aggregate([a, b])
    assert result["recall@1"] == pytest.approx(0.5)  # mean over samples
    assert result["pair_recall@1"] == pytest.approx(0.25)  # 1 of 4 pairs
    assert (result["samples"], result["pairs"]) == (2, 4)
