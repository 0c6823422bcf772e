import numpy as np
import pytest

from llmkb.errors import LLMKBError
from llmkb.pipeline.fusion import Candidates, FusionWeights, fuse, popularity_scores, signals, tune


def test_signals_by_hand():
    candidates = Candidates(["a", "b", "c"], [0.9, 0.5, 0.1], [-1.0, None, -3.0])
    matrix = signals(candidates, mentioned=["c", "x", "b"], popularity=popularity_scores(["b", "a", "c", "d"]))
    spread = np.std([0.9, 0.5, 0.1])
    assert matrix[:, 0] == pytest.approx([0.4 / spread, 0.0, -0.4 / spread])
    # the unscored "b" takes the list's lowest LLM score (-3), then the column is standardised
    llm = np.array([-1.0, -3.0, -3.0])
    assert matrix[:, 1] == pytest.approx((llm - llm.mean()) / llm.std())
    assert matrix[:, 2].tolist() == [0.0, 1 / 3, 1.0]  # c is the most recent mention, b the third
    assert matrix[:, 3].tolist() == [0.75, 1.0, 0.5]


def test_fuse_orders_by_weighted_sum_and_keeps_retrieval_order_on_ties():
    candidates = Candidates(["a", "b", "c"], [0.9, 0.5, 0.1], [None, None, None])
    matrix = signals(candidates, ["c"], {})
    assert fuse(matrix, FusionWeights(llm=0.0)) == [0, 1, 2]
    assert fuse(matrix, FusionWeights(llm=0.0, context=10.0)) == [2, 0, 1]
    assert fuse(np.zeros((3, 4)), FusionWeights()) == [0, 1, 2]


def test_tune_finds_the_weights_that_put_the_gold_first():
    # the gold is the mentioned movie, last by retrieval: only a context weight recovers it
    candidates = [Candidates(["a", "b", "c"], [0.9, 0.5, 0.1], [None] * 3) for _ in range(4)]
    matrices = [signals(c, ["c"], {}) for c in candidates]
    weights, score = tune(matrices, [c.ids for c in candidates], [["c"]] * 4,
                          grid={"llm": (0.0,), "context": (0.0, 4.0), "popularity": (0.0,)})
    assert weights.context == 4.0 and score == pytest.approx(3.0)  # R@1 + R@10 + R@50, each 1
    with pytest.raises(LLMKBError):
        tune([], [], [])


def test_weights_round_trip_and_bad_file(tmp_path):
    FusionWeights(llm=0.25, context=2.0).save(tmp_path / "w.json", tuned_on="valid")
    assert FusionWeights.load(tmp_path / "w.json") == FusionWeights(llm=0.25, context=2.0)
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(LLMKBError, match="re-run"):
        FusionWeights.load(tmp_path / "bad.json")
