import pytest

from llmkb.errors import LLMKBError
from llmkb.evaluation.tuning import tune
from llmkb.pipeline.fusion import Candidates, TrainingPriors, signals

NO_PRIORS = TrainingPriors({}, {})


def test_tune_finds_the_weights_that_put_the_gold_first():
    # the gold is the mentioned movie, last by retrieval: only a context weight recovers it
    candidates = [Candidates(["a", "b", "c"], [0.9, 0.5, 0.1], [None] * 3) for _ in range(4)]
    matrices = [signals(c, ["c"], NO_PRIORS) for c in candidates]
    weights, score = tune(matrices, [c.ids for c in candidates], [["c"]] * 4,
                          grid={"llm": (0.0,), "context": (0.0, 4.0), "popularity": (0.0,)})
    assert weights.context == 4.0 and score == pytest.approx(3.0)  # R@1 + R@10 + R@50, each 1
    with pytest.raises(LLMKBError):
        tune([], [], [])
