"""The learned ranker: ablations drop what left-out sources alone gave, and a trained booster ranks, saves and loads
(refusing files of another feature set)."""

import json

import numpy as np
import pytest

from llmkb.data.records import SEEKER, Turn
from llmkb.errors import LLMKBError
from llmkb.kb.facts import FactIndex
from llmkb.priors.training import TrainingPriors
from llmkb.ranking.candidates import Candidates
from llmkb.ranking.features import FEATURES
from llmkb.ranking.learned import LearnedRanker, ablate, ablated_features
from llmkb.fitting.train_ranker import RankerConfig
from llmkb.retrieval.query import TurnState

NAN = np.nan
STATE = TurnState((Turn(SEEKER, "hi"),), (), (), "")
PRIORS = TrainingPriors({}, {})
FACTS = FactIndex({}, {}, {})


def rows(*proposed: dict[str, float]) -> np.ndarray:
    """One row per candidate: its rank in each source that proposed it, 7 in every other feature."""
    matrix = np.full((len(proposed), len(FEATURES)), 7.0)
    matrix[:, [n for n, name in enumerate(FEATURES) if name.startswith("rank_in_")]] = NAN
    for row, ranks in zip(matrix, proposed):
        for source, rank in ranks.items():
            row[FEATURES.index(f"rank_in_{source}")] = rank
    return matrix


def test_ablating_a_source_drops_what_only_it_proposed_and_its_features():
    matrix = rows({"retriever": 0}, {"item2vec": 0}, {"item2vec": 1, "graph": 0}, {"retriever": 1, "item2vec": 2})
    masked, kept = ablate(matrix, FEATURES, ("item2vec",))
    assert kept.tolist() == [True, False, True, True] and masked.shape == (3, len(FEATURES))
    gone = {"rank_in_item2vec", "item2vec_profile", "item2vec_nearest", "item2vec_disliked"}
    assert {FEATURES[n] for n in ablated_features(("item2vec",))} == gone
    assert {"movielens_ratings", "movielens_rating"} <= {FEATURES[n] for n in ablated_features(("movielens",))}
    for n, name in enumerate(FEATURES):
        if name in gone:
            assert np.isnan(masked[:, n]).all(), name
    assert masked[:, FEATURES.index("graph_profile")].tolist() == [7.0] * 3  # another source's features stay
    assert masked[:, FEATURES.index("rank_in_graph")][1] == 0.0
    assert not np.isnan(matrix[2, FEATURES.index("rank_in_item2vec")])  # the caller's matrix is left as it was


def test_ablating_several_sources_or_none():
    matrix = rows({"kb": 0}, {"graph": 0}, {"kb": 1, "graph": 1}, {"mentioned": 0})
    masked, kept = ablate(matrix, FEATURES, ("kb", "graph"))
    assert kept.tolist() == [False, False, False, True]
    assert np.isnan(masked[:, FEATURES.index("graph_nearest")]).all() and np.isnan(
        masked[:, FEATURES.index("rank_in_kb")]).all()
    same, all_kept = ablate(matrix, FEATURES, ())
    assert same is matrix and all_kept.all()


def test_an_ablation_does_not_count_the_left_out_sources_proposals():
    matrix = rows({"retriever": 0, "graph": 0}, {"retriever": 1})
    matrix[:, FEATURES.index("sources")] = [2.0, 1.0]
    masked, _ = ablate(matrix, FEATURES, ("graph",))
    assert masked[:, FEATURES.index("sources")].tolist() == [1.0, 1.0]  # else the ranker still sees graph's vote


@pytest.fixture(scope="module")
def booster():
    """A small LambdaRank booster that learnt to prefer a high retriever cosine."""
    import lightgbm

    rng = np.random.default_rng(0)
    groups = [8] * 30
    features = rng.normal(size=(sum(groups), len(FEATURES))).astype(np.float32)
    retriever = FEATURES.index("retriever")
    labels = np.concatenate([(features[start:start + 8, retriever] == features[start:start + 8, retriever].max())
                             for start in range(0, len(features), 8)]).astype(float)
    params = {**RankerConfig(min_data_in_leaf=2, num_leaves=4).params(), "num_threads": 1}
    return lightgbm.train(params, lightgbm.Dataset(features, labels, group=groups, feature_name=list(FEATURES)),
                          num_boost_round=12)


CANDIDATES = Candidates(["a", "b", "c", "d"], [0.1, 0.9, 0.5, 0.3], [None] * 4,
                        sources={"retriever": ["a", "b", "c"], "co_mention": ["d"]})


def test_the_ranker_ranks_every_candidate_by_its_features(booster):
    ranked = LearnedRanker(booster, 10).rank(CANDIDATES, STATE, PRIORS, FACTS)
    assert sorted(item for item, _ in ranked) == ["a", "b", "c", "d"]
    assert ranked[0][0] == "b" and all(s1 >= s2 for (_, s1), (_, s2) in zip(ranked, ranked[1:]))
    without = LearnedRanker(booster, 10, without=("co_mention",)).rank(CANDIDATES, STATE, PRIORS, FACTS)
    assert sorted(item for item, _ in without) == ["a", "b", "c"]  # "d" came from co-mentions only
    assert LearnedRanker(booster, 10).rank(Candidates([], [], []), STATE, PRIORS, FACTS) == []


def test_the_ranker_uses_the_chosen_rounds(booster):
    matrix = np.random.default_rng(1).normal(size=(5, len(FEATURES))).astype(np.float32)
    assert np.allclose(LearnedRanker(booster, 3).scores(matrix), booster.predict(matrix, num_iteration=3))
    assert not np.allclose(LearnedRanker(booster, 3).scores(matrix), LearnedRanker(booster, 12).scores(matrix))


def test_a_saved_ranker_loads_and_ranks_the_same(booster, tmp_path):
    path = tmp_path / "ranker" / "std-key-without-kb.json"
    LearnedRanker(booster, 7, without=("kb",)).save(path, tuned_on="tiny-std", score=1.5)
    meta = json.loads(path.read_text())
    assert meta["model"] == "std-key-without-kb.txt" and (tmp_path / "ranker" / meta["model"]).is_file()
    assert meta["rounds"] == 7 and meta["without"] == ["kb"] and meta["features"] == list(FEATURES)
    assert meta["tuned_on"] == "tiny-std" and meta["score"] == 1.5
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temporary file left behind
    loaded = LearnedRanker.load(path)
    assert (loaded.rounds, loaded.without, loaded.path) == (7, ("kb",), path)
    again, before = (ranker.rank(CANDIDATES, STATE, PRIORS, FACTS)
                     for ranker in (loaded, LearnedRanker(booster, 7, without=("kb",))))
    assert [item for item, _ in again] == [item for item, _ in before]
    assert [score for _, score in again] == pytest.approx([score for _, score in before])


def test_loading_a_ranker_of_other_features_or_a_broken_file_says_to_train_it_again(booster, tmp_path):
    path = tmp_path / "r.json"
    LearnedRanker(booster, 5).save(path)
    meta = json.loads(path.read_text())
    path.write_text(json.dumps({**meta, "features": [*FEATURES, "a_new_feature"]}))
    with pytest.raises(LLMKBError, match="other features.*llmkb train-ranker"):
        LearnedRanker.load(path)
    path.write_text(json.dumps(meta))
    (tmp_path / "r.txt").unlink()
    with pytest.raises(LLMKBError, match="llmkb train-ranker"):
        LearnedRanker.load(path)
    with pytest.raises(LLMKBError, match="llmkb train-ranker"):
        LearnedRanker.load(tmp_path / "missing.json")
    path.write_text("{not json")
    with pytest.raises(LLMKBError, match="llmkb train-ranker"):
        LearnedRanker.load(path)
