"""The MovieLens item–item model: which catalogue items map to which movie, EASE's closed form, searching its
weights like item vectors, and fitting once per input."""

import numpy as np
import pytest

from llmkb.data.movielens import MovieLens
from llmkb.data.records import CatalogItem
from llmkb.priors import behaviour
from llmkb.priors.behaviour import ItemScores, behaviour_scores, catalogue_links, fit_ease


def movielens(users, movies, ratings, titles, imdb=None) -> MovieLens:
    return MovieLens(np.array(users, np.int32), np.array(movies, np.int32), np.array(ratings, np.float32),
                     titles, imdb or {}, "0" * 64)


def test_items_map_by_imdb_when_year_and_title_agree_else_by_title_and_year():
    ml = movielens([1], [1], [4.0], {1: ("Heat", 1995), 2: ("Goodfellas", 1990), 3: ("It", 1990), 4: ("Heat", 1986)},
                   {"0113277": 1, "0099685": 2})
    catalog = {"a": CatalogItem("a", "Heat", 1995), "b": CatalogItem("b", "It", 1990),
               "c": CatalogItem("c", "Heat", 1986), "d": CatalogItem("d", "Unknown", 2001)}
    metadata = {"a": {"imdb_id": "tt0113277"}, "b": {"imdb_id": "tt0099685"}}  # b's id is another film's
    assert catalogue_links(catalog, metadata, ml) == {"a": 1, "b": 3, "c": 4}


def test_ease_is_the_closed_form_ridge_regression_with_a_zero_diagonal():
    # users 1-3 like movies 1 and 2 together; user 4 likes 3 alone; a rating below LIKED is no interaction
    ml = movielens([1, 1, 2, 2, 3, 3, 4, 4], [1, 2, 1, 2, 1, 2, 3, 1], [5, 4, 4, 5, 4, 4, 5, 1], {})
    ids, weights = fit_ease(ml, regularisation=1.0, min_ratings=1)
    x = np.array([[1, 1, 0], [1, 1, 0], [1, 1, 0], [0, 0, 1]], float)
    inverse = np.linalg.inv(x.T @ x + np.eye(3))
    expected = -inverse / np.diag(inverse)
    np.fill_diagonal(expected, 0.0)
    assert ids.tolist() == [1, 2, 3] and np.allclose(weights, expected, atol=1e-6)
    assert weights[0, 1] > 0 and weights[0, 2] == pytest.approx(0.0)
    assert fit_ease(ml, regularisation=1.0, min_ratings=2)[0].tolist() == [1, 2]  # movie 3: one rating


def test_scores_are_searched_like_item_vectors():
    scores = ItemScores(["a", "b", "c"], np.array([[0, 2, -1], [1, 0, 3], [0, 0, 0]], np.float32))
    assert np.allclose(scores.profile(["b", "a"]), [1 * 1 + 0.5 * 0, 1 * 0 + 0.5 * 2, 1 * 3 + 0.5 * -1])
    assert [item for item, _ in scores.nearest(scores.profile(["a"]), 3)] == ["b"]  # only positive scores
    assert scores.cosines(scores.profile(["a"]), ["c", "x"]) == [-1.0, 0.0]
    assert scores.max_cosines(["a", "b"], ["c"]) == [3.0] and scores.profile(["x"]) is None


def test_the_model_is_fitted_once_per_input_and_says_what_it_covers(tmp_path, monkeypatch):
    ml = movielens([1, 1, 2, 2], [1, 2, 1, 2], [5, 4, 4, 5], {1: ("Heat", 1995), 2: ("Alien", 1979)})
    catalog = {"a": CatalogItem("a", "Heat", 1995), "b": CatalogItem("b", "Alien", 1979),
               "c": CatalogItem("c", "Other", 2000)}
    scores, made = behaviour_scores(catalog, {}, ml, cache=tmp_path)
    assert scores.ids == ["a", "b"] and scores.weights[0, 1] > 0 and scores.ratings["a"] == (2, 4.5)
    assert (made["catalogue"], made["mapped"], made["scored"]) == (3, 2, 2)
    monkeypatch.setattr(behaviour, "fit_ease", lambda *a, **k: pytest.fail("fitted again"))
    again, _ = behaviour_scores(catalog, {}, ml, cache=tmp_path)
    assert np.array_equal(again.weights, scores.weights)
