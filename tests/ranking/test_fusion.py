import numpy as np
import pytest

from llmkb.errors import LLMKBError
from llmkb.priors.training import TrainingPriors, popularity_scores
from llmkb.ranking.candidates import Candidates
from llmkb.ranking.fusion import SIGNALS, FusionWeights, fuse, signals

NO_PRIORS = TrainingPriors({}, {})


def test_signals_by_hand():
    candidates = Candidates(["a", "b", "c"], [0.9, 0.5, 0.1], [-1.0, None, -3.0])
    priors = TrainingPriors(popularity_scores(["b", "a", "c", "d"]), {"c": {"a": 3, "c2": 1}, "b": {"a": 1}})
    matrix = signals(candidates, mentioned=["c", "x", "b"], priors=priors)
    spread = np.std([0.9, 0.5, 0.1])
    assert matrix[:, 0] == pytest.approx([0.4 / spread, 0.0, -0.4 / spread])
    # the unscored "b" takes the list's lowest LLM score (-3), then the column is standardised
    llm = np.array([-1.0, -3.0, -3.0])
    assert matrix[:, 1] == pytest.approx((llm - llm.mean()) / llm.std())
    assert matrix[:, 2].tolist() == [0.0, 1 / 3, 1.0]  # c is the most recent mention, b the third
    assert matrix[:, 3].tolist() == [0.75, 1.0, 0.5]
    # a is co-mentioned with c (3 dialogues, most recent) and with b (1 dialogue, third most recent)
    assert matrix[:, 4] == pytest.approx([np.log(4) + np.log(2) / 3, 0.0, 0.0])


def test_co_mentions_come_from_training_dialogues_and_weigh_recent_movies_most():
    from llmkb.data.records import Dialogue, Turn

    training = [Dialogue("d1", (Turn("seeker", "x", ("a", "b")), Turn("recommender", "y", ("c",)))),
                Dialogue("d2", (Turn("seeker", "x", ("a", "c")),))]
    priors = TrainingPriors.from_dialogues(training, ["a", "c", "b"])
    assert priors.co_mentions["a"] == {"b": 1, "c": 2}
    assert priors.popularity == {"a": 1.0, "c": pytest.approx(2 / 3), "b": pytest.approx(1 / 3)}
    assert list(priors.co_mention(["b", "c"])) == ["a", "c", "b"]  # a: with both; c: with b (more recent); b: with c
    assert priors.co_mention(["zzz"]) == {}


def test_fuse_orders_by_weighted_sum_and_keeps_retrieval_order_on_ties():
    candidates = Candidates(["a", "b", "c"], [0.9, 0.5, 0.1], [None, None, None])
    matrix = signals(candidates, ["c"], NO_PRIORS)
    assert fuse(matrix, FusionWeights(llm=0.0)) == [0, 1, 2]
    assert fuse(matrix, FusionWeights(llm=0.0, context=10.0)) == [2, 0, 1]
    assert fuse(np.zeros((3, len(SIGNALS))), FusionWeights()) == [0, 1, 2]


def test_weights_round_trip_and_bad_file(tmp_path):
    FusionWeights(llm=0.25, context=2.0).save(tmp_path / "w.json", tuned_on="valid")
    assert FusionWeights.load(tmp_path / "w.json") == FusionWeights(llm=0.25, context=2.0)
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(LLMKBError, match="tune-fusion"):
        FusionWeights.load(tmp_path / "bad.json")
