"""Collaborative knowledge from external behaviour data: MovieLens ratings (``llmkb.data.movielens``) mapped to a
catalogue, and an item–item model fitted on them (EASE, Steck 2019: a closed-form ridge regression of each movie's
column of the user × movie matrix on every other column, with a zero diagonal).

The model is fitted on MovieLens alone, so it holds nothing of either dataset's dialogues; only the mapping reads
the catalogue (titles, years and the metadata's IMDb ids).

A catalogue item maps to a MovieLens movie through its IMDb id when the years agree within one and the titles share
a word (the metadata's IMDb id is sometimes another film's), else through the same title and year.

>>> scores = ItemScores(["a", "b", "c"], np.array([[0.0, 2.0, 0.5], [2.0, 0.0, 0.0], [0.5, 0.0, 0.0]]))
>>> [item for item, _ in scores.nearest(scores.profile(["a"]), 2)]
['b', 'c']
>>> scores.max_cosines(["b"], ["a", "c", "unknown"])
[2.0, 0.0, 0.0]
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from llmkb.data import Dataset
from llmkb.data.io import warn
from llmkb.data.movielens import MovieLens, load_movielens, movielens_path
from llmkb.data.records import CatalogItem
from llmkb.postprocess.normalize import normalize_title

LIKED = 3.5  # a rating at or above this counts as an interaction (chosen on ReDial's valid split)
REGULARISATION = 500.0  # EASE's λ (chosen on ReDial's valid split)
MIN_RATINGS = 2  # movies rated fewer times are left out of the fit


def catalogue_links(catalog: Mapping[str, CatalogItem], metadata: Mapping[str, Mapping],
                    movielens: MovieLens) -> dict[str, int]:
    """Catalogue id → MovieLens movie id, for the items that map (see the module docstring)."""
    by_title: dict[tuple[str, int | None], int] = {}
    for movie, (title, year) in sorted(movielens.titles.items()):
        by_title.setdefault((normalize_title(title), year), movie)
    links = {}
    for item_id, item in catalog.items():
        imdb = str(metadata.get(item_id, {}).get("imdb_id", "")).removeprefix("tt").zfill(7)
        movie = movielens.imdb.get(imdb)
        if movie is not None:
            title, year = movielens.titles.get(movie, ("", None))
            same_year = not (item.year and year) or abs(item.year - year) <= 1
            if same_year and set(normalize_title(title).split()) & set(normalize_title(item.title).split()):
                links[item_id] = movie
                continue
        movie = by_title.get((normalize_title(item.title), item.year)) if item.year else None
        if movie is not None:
            links[item_id] = movie
    return links


def fit_ease(movielens: MovieLens, liked: float = LIKED, regularisation: float = REGULARISATION,
             min_ratings: int = MIN_RATINGS) -> tuple[np.ndarray, np.ndarray]:
    """The movie ids fitted and EASE's item–item weights among them (float32, zero diagonal)."""
    keep = movielens.ratings >= liked
    users, movies = movielens.users[keep], movielens.movies[keep]
    ids, column, counts = np.unique(movies, return_inverse=True, return_counts=True)
    frequent = counts >= min_ratings
    ids, remap = ids[frequent], np.cumsum(frequent) - 1
    rows = frequent[column]
    _, user_row = np.unique(users[rows], return_inverse=True)
    matrix = np.zeros((user_row.max() + 1, len(ids)), np.float64)
    matrix[user_row, remap[column[rows]]] = 1.0
    gram = matrix.T @ matrix
    gram[np.diag_indices_from(gram)] += regularisation
    inverse = np.linalg.inv(gram)
    weights = -inverse / np.diag(inverse)
    weights[np.diag_indices_from(weights)] = 0.0
    return ids, weights.astype(np.float32)


@dataclass
class ItemScores:
    """Item–item weights over catalogue items, searched as :class:`~llmkb.priors.items.ItemVectors` are: a profile
    is the recency-weighted sum of the rows of the dialogue's known items (most recent weight 1, then 1/2, ...)."""

    ids: list[str]
    weights: np.ndarray  # (items × items), row: what liking that item says of each other one
    ratings: Mapping[str, tuple[int, float]] = field(default_factory=dict)  # item → (how many ratings, their mean)

    def __post_init__(self) -> None:
        self.position = {item: n for n, item in enumerate(self.ids)}
        self.items = len(self.ids)

    def profile(self, nodes: Sequence[str]) -> np.ndarray | None:
        known = [(1.0 / (1 + rank), self.position[n]) for rank, n in enumerate(nodes) if n in self.position]
        if not known:
            return None
        recency, rows = zip(*known)
        return np.asarray(recency, dtype=np.float32) @ self.weights[list(rows)]

    def nearest(self, profile: np.ndarray | None, k: int) -> list[tuple[str, float]]:
        """The ``k`` items the profile scores highest (only those it scores above 0), best first."""
        if profile is None or k <= 0:
            return []
        top = np.argsort(-profile, kind="stable")[:k]
        return [(self.ids[i], float(profile[i])) for i in top if profile[i] > 0]

    def cosines(self, profile: np.ndarray | None, items: Sequence[str]) -> list[float]:
        """Each item's score under ``profile`` (0 for unknown items or without a profile)."""
        if profile is None:
            return [0.0] * len(items)
        return [float(profile[self.position[i]]) if i in self.position else 0.0 for i in items]

    def max_cosines(self, nodes: Sequence[str], items: Sequence[str]) -> list[float]:
        """Each item's highest weight from any single one of the known ``nodes``."""
        rows = [self.position[n] for n in nodes if n in self.position]
        if not rows:
            return [0.0] * len(items)
        best = self.weights[rows].max(axis=0)
        return [float(best[self.position[i]]) if i in self.position else 0.0 for i in items]


def behaviour_scores(catalog: Mapping[str, CatalogItem], metadata: Mapping[str, Mapping], movielens: MovieLens,
                     cache: Path | None = None) -> tuple[ItemScores, dict]:
    """EASE fitted on MovieLens, restricted to the catalogue items that map to a fitted movie (items sharing a movie
    share its row), and what was done: coverage and fitting time. Kept in ``cache`` by its inputs."""
    links = catalogue_links(catalog, metadata, movielens)
    key = hashlib.sha256(json.dumps([movielens.sha256, LIKED, REGULARISATION, MIN_RATINGS]).encode()).hexdigest()
    path = cache / f"ease-{key[:16]}.npz" if cache else None
    started = time.time()
    if path and path.is_file():
        with np.load(path) as stored:
            movies, weights = stored["movies"], stored["weights"]
    else:
        movies, weights = fit_ease(movielens)
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.tmp")
            with open(tmp, "wb") as out:
                np.savez(out, movies=movies, weights=weights)
            tmp.replace(path)
    row = {int(movie): n for n, movie in enumerate(movies)}
    items = sorted(item for item, movie in links.items() if movie in row)
    rows = [row[links[item]] for item in items]
    counts = np.bincount(movielens.movies)
    sums = np.bincount(movielens.movies, weights=movielens.ratings)
    ratings = {item: (int(counts[movie]), float(sums[movie] / counts[movie]))
               for item, movie in links.items() if movie < len(counts) and counts[movie]}
    scores = ItemScores(items, weights[np.ix_(rows, rows)], ratings)
    made = {"source": "MovieLens ml-latest-small", "zip_sha256": movielens.sha256, "model": "EASE",
            "liked": LIKED, "regularisation": REGULARISATION, "min_ratings": MIN_RATINGS,
            "movies_fitted": len(movies), "catalogue": len(catalog), "mapped": len(links), "scored": len(items),
            "seconds": round(time.time() - started, 1)}
    return scores, made


def dataset_behaviour(dataset: Dataset, cache: Path | None = None) -> tuple[ItemScores | None, dict]:
    """``behaviour_scores`` for ``dataset`` from the MovieLens zip in its data folder; (None, why) without it."""
    path = movielens_path(dataset.root)
    if not path.is_file():
        warn("MovieLens is not there, so its collaborative model is left out; `llmkb data fetch` gets it", path)
        return None, {"source": None, "missing": str(path)}
    return behaviour_scores(dataset.catalog, dataset.metadata, load_movielens(dataset.root), cache)
