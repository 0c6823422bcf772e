"""The feature matrix of one sample: every column where ``FEATURES`` names it, NaN where a value does not exist."""

import numpy as np
import pytest

from llmkb.data.records import RECOMMENDER, SEEKER, Turn
from llmkb.kb.facts import FactIndex, Preference
from llmkb.priors.training import TrainingPriors
from llmkb.ranking.candidates import SOURCES, Candidates
from llmkb.ranking.features import FEATURES, REPRESENTATIONS, feature_matrix
from llmkb.priors.behaviour import ItemScores
from llmkb.priors.items import ItemVectors
from llmkb.retrieval.query import TurnState

FACTS = FactIndex({("genre", "western"): frozenset({"a", "c"})}, {("genre", "western"): "Western"},
                  {"a": 1990, "b": 2000, "c": 2010})
TURNS = (Turn(SEEKER, "I liked b and a"), Turn(RECOMMENDER, "ok"), Turn(SEEKER, "a western?"))
STATE = TurnState(TURNS, ("b", "a"), (Preference("movie", "b", turn=0), Preference("genre", "western", turn=2)), "")
PRIORS = TrainingPriors(popularity={"a": 0.25, "c": 1.0}, co_mentions={"b": {"c": 3}})
FOUND = Candidates(["a", "b", "c"], [0.1, 0.9, 0.5], [None] * 3, kb_match=[1.0, 0.0, 0.5], plot_match=[0, 0.2, 1],
                   sources={"retriever": ["b", "c", "a"], "co_mention": ["c"], "kb": ["c", "a"],
                            "mentioned": ["b", "a"]})


def column(matrix: np.ndarray, name: str) -> list[float]:
    return matrix[:, FEATURES.index(name)].tolist()


def test_every_feature_sits_in_its_named_column():
    matrix = feature_matrix(FOUND, STATE, PRIORS, FACTS)
    assert matrix.shape == (3, len(FEATURES)) and matrix.dtype == np.float32
    assert len(set(FEATURES)) == len(FEATURES)
    assert column(matrix, "retriever") == pytest.approx([0.1, 0.9, 0.5])
    assert column(matrix, "retriever_rank") == [2.0, 0.0, 1.0]  # by cosine, not by list order
    z = np.array(column(matrix, "retriever_z"))
    assert z.mean() == pytest.approx(0.0, abs=1e-6) and z.std() == pytest.approx(1.0, abs=1e-5) and z[1] > z[2] > z[0]
    assert column(matrix, "mentioned_recency") == [0.5, 1.0, 0.0]  # "b" is the most recent mention
    assert column(matrix, "popularity") == [0.25, 0.0, 1.0]
    assert column(matrix, "co_mention") == pytest.approx([0.0, 0.0, np.log1p(3)])
    assert column(matrix, "kb_match") == [1.0, 0.0, 0.5]
    assert column(matrix, "plot_match") == pytest.approx([0.0, 0.2, 1.0])
    assert column(feature_matrix(Candidates(["a"], [0.1], [None]), STATE, PRIORS, FACTS), "plot_match") == [0.0]
    assert column(matrix, "year") == [1990.0, 2000.0, 2010.0]
    assert column(matrix, "years_from_mentioned") == [5.0, 5.0, 15.0]  # from their mean year, 1995
    assert column(matrix, "dialogue_movies") == [2.0] * 3
    assert column(matrix, "dialogue_preferences") == [1.0] * 3  # the western; the movie is counted as a movie
    assert column(matrix, "dialogue_turns") == [3.0] * 3


def test_source_ranks_and_how_many_sources_proposed_each_candidate():
    matrix = feature_matrix(FOUND, STATE, PRIORS, FACTS)
    assert column(matrix, "rank_in_retriever") == [2.0, 0.0, 1.0]
    assert column(matrix, "rank_in_kb") == [1.0, pytest.approx(np.nan, nan_ok=True), 0.0]
    assert np.isnan(column(matrix, "rank_in_co_mention")[:2]).all() and column(matrix, "rank_in_co_mention")[2] == 0.0
    assert column(matrix, "rank_in_mentioned") == [1.0, 0.0, pytest.approx(np.nan, nan_ok=True)]
    assert np.isnan(column(matrix, "rank_in_item2vec")).all() and np.isnan(column(matrix, "rank_in_graph")).all()
    assert column(matrix, "sources") == [3.0, 2.0, 3.0]
    assert {f"rank_in_{s}" for s in SOURCES} <= set(FEATURES)


def test_without_item_representations_their_features_are_missing():
    matrix = feature_matrix(FOUND, STATE, PRIORS, FACTS)
    for name in REPRESENTATIONS:
        assert np.isnan(column(matrix, f"{name}_profile")).all() and np.isnan(column(matrix, f"{name}_nearest")).all()


def test_item_representation_cosines_and_a_graph_profile_from_preferences_alone():
    item2vec = ItemVectors(["a", "b", "c"], np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
    graph = ItemVectors(["a", "b", "c", "genre=western"], np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [1.0, 0.0]]),
                        items=3)
    priors = TrainingPriors(PRIORS.popularity, PRIORS.co_mentions, {"item2vec": item2vec, "graph": graph})
    matrix = feature_matrix(FOUND, STATE, priors, FACTS)
    assert column(matrix, "item2vec_nearest") == pytest.approx([1.0, 1.0, np.sqrt(0.5)], abs=1e-6)
    profile = item2vec.profile(["b", "a"])  # most recent ("b") weighs most
    assert column(matrix, "item2vec_profile") == pytest.approx(item2vec.cosines(profile, ["a", "b", "c"]), abs=1e-6)
    assert column(matrix, "item2vec_profile")[1] > column(matrix, "item2vec_profile")[0]
    # no movie named yet: item2vec has no profile, the graph places the user by the linked western
    fresh = TurnState(TURNS[2:], (), (Preference("genre", "western", turn=0),), "")
    matrix = feature_matrix(FOUND, fresh, priors, FACTS)
    assert column(matrix, "item2vec_profile") == [0.0] * 3 and column(matrix, "graph_nearest") == [0.0] * 3
    assert column(matrix, "graph_profile") == pytest.approx([1.0, 0.0, 0.0], abs=1e-6)


def test_movielens_weights_a_disliked_movie_and_the_ratings_of_mapped_movies():
    behaviour = ItemScores(["a", "b", "c"], np.array([[0, 1, 2], [1, 0, 0], [2, 0, 0]], np.float32),
                           {"a": (9, 4.0), "c": (2, 3.5)})
    priors = TrainingPriors(PRIORS.popularity, PRIORS.co_mentions, {"movielens": behaviour})
    disliking = TurnState(TURNS, ("b", "a"), (Preference("movie", "c", polarity=-1, turn=2),), "")
    matrix = feature_matrix(FOUND, disliking, priors, FACTS)
    assert column(matrix, "movielens_nearest") == [1.0, 1.0, 2.0]  # the best weight from "b" or "a"
    assert column(matrix, "movielens_disliked") == [2.0, 0.0, 0.0]
    assert column(matrix, "movielens_ratings")[0] == pytest.approx(np.log1p(9))
    assert column(matrix, "movielens_rating")[::2] == [4.0, 3.5] and np.isnan(column(matrix, "movielens_rating")[1])
    assert np.isnan(column(matrix, "item2vec_disliked")).all()  # no item2vec in these priors


def test_years_from_mentioned_is_missing_without_a_mentioned_year():
    no_years = TurnState(TURNS, ("unknown",), (), "")
    matrix = feature_matrix(FOUND, no_years, PRIORS, FACTS)
    assert np.isnan(column(matrix, "years_from_mentioned")).all() and column(matrix, "year") == [1990, 2000, 2010]
    assert np.isnan(column(feature_matrix(FOUND, no_years, PRIORS, FactIndex({}, {}, {})), "year")).all()


def test_an_empty_candidate_list_and_equal_cosines_give_finite_rows():
    empty = feature_matrix(Candidates([], [], []), STATE, PRIORS, FACTS)
    assert empty.shape == (0, len(FEATURES)) and empty.dtype == np.float32
    flat = feature_matrix(Candidates(["a", "b"], [0.3, 0.3], [None, None]), STATE, PRIORS, FACTS)
    assert column(flat, "retriever_z") == [0.0, 0.0] and column(flat, "retriever_rank") == [0.0, 1.0]
    assert column(flat, "kb_match") == [0.0, 0.0] and column(flat, "sources") == [0.0, 0.0]
