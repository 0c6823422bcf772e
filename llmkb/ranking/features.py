"""Every feature the learned ranker sees for one candidate, in one place.

Per candidate (NaN where a value does not exist, which LightGBM treats as missing):

- the retriever's cosine, standardised within the list, and its rank by cosine;
- per source (``SOURCES``): its rank in that source's list (NaN when the source did not propose it), and how many
  sources proposed it;
- ``mentioned_recency``: 1 / (1 + recency) when the dialogue mentioned it (most recent = 1), else 0;
- the training priors: popularity, co-mentions with the dialogue's movies (``TrainingPriors.co_mention``);
- the KB: ``kb_match`` (the linked preferences its facts hold), ``plot_match`` (how well its plot matches the
  seeker's own words, ``llmkb.kb.plots``), its year, and its distance in years from the mean year of the dialogue's
  movies;
- per item representation (item2vec, the graph, MovieLens's item–item model): the cosine to the dialogue's profile, the
  best cosine to any one mentioned movie and to any one disliked movie (MovieLens: its weights instead of cosines);
- MovieLens: how many ratings the movie has (log) and their mean (NaN when it does not map);
- the dialogue: how many movies it mentioned, how many preferences were linked, how many turns it has.

The LLM's score is not a feature: the served system ranks without it (``RecommenderConfig.llm_scoring``).

>>> from llmkb.retrieval.query import TurnState
>>> priors = TrainingPriors(popularity={"a": 1.0, "b": 0.5}, co_mentions={"m": {"a": 2}})
>>> found = Candidates(["a", "b"], [0.8, 0.2], [None, None], sources={"retriever": ["a", "b"], "co_mention": ["a"]})
>>> matrix = feature_matrix(found, TurnState((), ("m",), (), ""), priors, FactIndex({}, {}, {}))
>>> matrix.shape == (2, len(FEATURES)), bool(matrix[0, FEATURES.index("co_mention")] > 0)
(True, True)
"""

from __future__ import annotations

import numpy as np

from llmkb.kb.facts import FactIndex
from llmkb.priors.items import preference_nodes
from llmkb.priors.training import TrainingPriors
from llmkb.ranking.candidates import SOURCES, Candidates
from llmkb.ranking.fusion import standardise
from llmkb.retrieval.query import TurnState

REPRESENTATIONS = ("item2vec", "graph", "movielens")
KINDS = ("profile", "nearest", "disliked")  # each representation's features
FEATURES_VERSION = 3  # bump when a feature's computation changes: cached training rows are keyed by it
FEATURES = (
    "retriever", "retriever_z", "retriever_rank",
    *(f"rank_in_{source}" for source in SOURCES), "sources",
    "mentioned_recency", "popularity", "co_mention", "kb_match", "plot_match", "year", "years_from_mentioned",
    *(f"{name}_{kind}" for name in REPRESENTATIONS for kind in KINDS), "movielens_ratings", "movielens_rating",
    "dialogue_movies", "dialogue_preferences", "dialogue_turns",
)


def feature_matrix(candidates: Candidates, state: TurnState, priors: TrainingPriors, facts: FactIndex) -> np.ndarray:
    """The (candidates × ``FEATURES``) matrix of one sample, float32."""
    ids, n = candidates.ids, len(candidates.ids)
    columns: dict[str, np.ndarray | float] = {}
    cosine = np.asarray(candidates.retriever, dtype=float)
    columns["retriever"] = cosine
    columns["retriever_z"] = standardise(cosine) if n else cosine
    columns["retriever_rank"] = np.argsort(np.argsort(-cosine, kind="stable"), kind="stable").astype(float)
    proposed = np.zeros(n)
    for source in SOURCES:
        rank = {item: r for r, item in enumerate(candidates.sources.get(source, ()))}
        columns[f"rank_in_{source}"] = np.array([rank.get(item, np.nan) for item in ids], dtype=float)
        proposed += [item in rank for item in ids]
    columns["sources"] = proposed
    mentioned = list(state.mentioned)
    recency = {item: 1.0 / (1 + r) for r, item in enumerate(mentioned)}
    columns["mentioned_recency"] = np.array([recency.get(item, 0.0) for item in ids])
    columns["popularity"] = np.array([priors.popularity.get(item, 0.0) for item in ids])
    co_mention = priors.co_mention(mentioned)
    columns["co_mention"] = np.array([co_mention.get(item, 0.0) for item in ids])
    columns["kb_match"] = np.asarray(candidates.kb_match or np.zeros(n), dtype=float)
    columns["plot_match"] = np.asarray(candidates.plot_match or np.zeros(n), dtype=float)
    years = np.array([facts.years.get(item, np.nan) for item in ids], dtype=float)
    known = [facts.years[item] for item in mentioned if item in facts.years]
    columns["year"] = years
    columns["years_from_mentioned"] = np.abs(years - np.mean(known)) if known else np.full(n, np.nan)
    disliked = [p.value for p in reversed(state.preferences) if p.relation == "movie" and p.polarity < 0]
    for name in REPRESENTATIONS:
        vectors = priors.vectors.get(name)
        if vectors is None:
            for kind in KINDS:
                columns[f"{name}_{kind}"] = np.full(n, np.nan)
            continue
        nodes = preference_nodes(state.preferences, facts) if name == "graph" else []
        columns[f"{name}_profile"] = np.array(vectors.cosines(vectors.profile([*mentioned, *nodes]), ids))
        columns[f"{name}_nearest"] = np.array(vectors.max_cosines(mentioned, ids))
        columns[f"{name}_disliked"] = np.array(vectors.max_cosines(disliked, ids))
    behaviour = priors.vectors.get("movielens")
    ratings = behaviour.ratings if behaviour is not None else {}
    counts, means = (np.array([ratings.get(item, (np.nan, np.nan))[n] for item in ids], dtype=float) for n in (0, 1))
    columns["movielens_ratings"], columns["movielens_rating"] = np.log1p(counts), means
    columns["dialogue_movies"] = float(len(mentioned))
    columns["dialogue_preferences"] = float(sum(p.relation != "movie" for p in state.preferences))
    columns["dialogue_turns"] = float(len(state.turns))
    return np.column_stack([np.broadcast_to(np.asarray(columns[name], dtype=float), (n,)) for name in FEATURES]) \
        .astype(np.float32)
