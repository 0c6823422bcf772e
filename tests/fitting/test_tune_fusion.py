import pytest

from llmkb.errors import LLMKBError
from llmkb.fitting.tune_fusion import tune
from llmkb.priors.training import TrainingPriors
from llmkb.ranking.candidates import Candidates
from llmkb.ranking.fusion import signals

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


def test_tune_scores_the_lists_the_system_returns_after_reranking():
    # "a" is the gold; any context weight puts "c" first. A reranker that moves "c" to the end undoes that,
    # so only then is a context weight harmless; without the reranker the grid avoids it.
    candidates = [Candidates(["a", "b", "c"], [0.9, 0.5, 0.1], [None] * 3) for _ in range(2)]
    matrices = [signals(c, ["c"], NO_PRIORS) for c in candidates]
    grid = {"llm": (0.0,), "context": (4.0, 0.0), "popularity": (0.0,)}
    plain, _ = tune(matrices, [c.ids for c in candidates], [["a"]] * 2, grid=grid)
    to_end = lambda i, ids: [x for x in ids if x != "c"] + ["c"]  # noqa: E731
    reranked, score = tune(matrices, [c.ids for c in candidates], [["a"]] * 2, grid=grid, rerank=to_end)
    assert plain.context == 0.0 and reranked.context == 4.0 and score == pytest.approx(3.0)
