"""Fuse the signals behind a recommendation into one ranking, with weights tuned on the validation split only.

Every candidate carries six signals:

- ``retriever``: the dense retriever's cosine to the user representation;
- ``llm``: the LLM's mean log-likelihood of the candidate's title as the answer to the RAG prompt;
- ``context``: 1 / (1 + recency) when the dialogue already mentioned the movie (most recent = 1), else 0;
- ``popularity``: its rank among training mentions, as 1 − rank / catalogue size;
- ``co_mention``: Σ over the dialogue's mentioned movies of log(1 + how many training dialogues mention both),
  each divided by 1 + its recency (the KB's "often mentioned with" facts, as a number);
- ``kb_match``: how well the item's KB facts satisfy the preferences linked in the seeker's turns
  (``FactIndex.match_scores``: recency-weighted share of the wanted ones, minus the unwanted ones it holds).

The retriever and LLM scores are standardised within each candidate list, so the weights are scale-free.
Candidates the LLM did not score get the lowest LLM score of their list. Popularity and co-mentions come from the
training dialogues only (``TrainingPriors``).

Weights come from ``llmkb tune-fusion`` (``llmkb.evaluation.tuning``), which writes them beside their provenance;
:func:`tuned_weights_path` is where it puts them by default, and :func:`with_tuned_ranking` is the one place that
chat and the demo ask for "the tuned ranking for this setup": the learned ranker (``llmkb.ranking``) when one was
trained, which then ranks in place of the fusion.

>>> priors = TrainingPriors(popularity={"b": 1.0, "a": 0.5}, co_mentions={"m": {"a": 3}})
>>> candidates = Candidates(["a", "b", "c"], retriever=[0.9, 0.5, 0.1], llm=[None, None, None])
>>> fuse(signals(candidates, ["m"], priors), FusionWeights(llm=0.0, co_mention=1.0))  # indices, best first
[0, 1, 2]
>>> [item for item, _ in rank_candidates(candidates, ["m"], priors, FusionWeights(llm=0.0, popularity=4.0))]
['b', 'a', 'c']
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from llmkb.data.io import atomic_write_json
from llmkb.data.records import Dialogue
from llmkb.data.samples import by_mentions
from llmkb.errors import LLMKBError
from llmkb.kb.documents import co_mention_counts
from llmkb.kb.facts import FactIndex
from llmkb.paths import artifacts_dir
from llmkb.pipeline.config import RecommenderConfig
from llmkb.ranking.items import ItemVectors, train_graph, train_item2vec
from llmkb.retrieval.query import TurnState

SIGNALS = ("retriever", "llm", "context", "popularity", "co_mention", "kb_match")
TUNED_FOR_CHAT = ("dedup", "std")  # chat recommends new movies, as the dedup protocol scores; std when only it exists


@dataclass(frozen=True)
class FusionWeights:
    retriever: float = 1.0
    llm: float = 0.5
    context: float = 0.0
    popularity: float = 0.0
    co_mention: float = 0.0
    kb_match: float = 1.0

    def vector(self) -> np.ndarray:
        return np.array([getattr(self, name) for name in SIGNALS])

    @property
    def needs_llm(self) -> bool:
        """A zero LLM weight means the LLM's scores cannot change the ranking, so they need not be computed."""
        return self.llm != 0

    def rank(self, candidates: Candidates, state: TurnState, priors: TrainingPriors,
             facts: FactIndex | None = None) -> list[tuple[str, float]]:
        """Candidates best first with their fused scores (as a learned ranker ranks them)."""
        return rank_candidates(candidates, state.mentioned, priors, self)

    def save(self, path: Path, **provenance) -> None:
        atomic_write_json(path, {"weights": asdict(self), **provenance})

    @classmethod
    def load(cls, path: Path) -> "FusionWeights":
        """Weights from a file ``save`` wrote; a signal the file predates (``kb_match``) gets weight 0."""
        try:
            values = json.loads(Path(path).read_text())["weights"]
            return cls(**{f.name: float(values[f.name] if f.name in values or f.name != "kb_match" else 0.0)
                          for f in fields(cls)})
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise LLMKBError(f"cannot read fusion weights from {path} ({error}); write them again with "
                             "`llmkb tune-fusion --dataset D --protocol P --out FILE`") from error


def items_cache(dataset: str) -> Path:
    """Where the item representations of ``dataset`` are kept, by their inputs."""
    return artifacts_dir() / "items" / dataset


def tuned_weights_path(dataset: str, protocol: str, setup_key: str) -> Path:
    """Where ``llmkb tune-fusion`` writes the weights tuned for one setup and protocol (unless told otherwise)."""
    return artifacts_dir() / "fusion" / dataset / f"{protocol}-{setup_key}.json"


def trained_ranker_path(dataset: str, protocol: str, setup_key: str, without: Sequence[str] = ()) -> Path:
    """Where ``llmkb train-ranker`` writes the learned ranker of one setup and protocol (and ablation)."""
    suffix = "".join(f"-without-{source}" for source in sorted(without))
    return artifacts_dir() / "ranker" / dataset / f"{protocol}-{setup_key}{suffix}.json"


def with_tuned_ranking(config: RecommenderConfig) -> RecommenderConfig:
    """``config`` as chat and the demo use it: what it does not name, taken from what was tuned for its setup
    (dedup's, else std's): the learned ranker when its setup ranks without the LLM and one was trained, and the
    fusion weights."""
    key = config.resolved().setup_key
    for name, path in (("weights", tuned_weights_path), ("ranker", trained_ranker_path)):
        if getattr(config, name) is None and (name == "weights" or config.setup["llm"] is None):
            found = (path(config.dataset, protocol, key) for protocol in TUNED_FOR_CHAT)
            config = dataclasses.replace(config, **{name: next((p for p in found if p.is_file()), None)})
    return config


SOURCES = ("retriever", "co_mention", "kb", "item2vec", "graph", "mentioned")  # where candidates come from


@dataclass
class Candidates:
    """One sample's candidates, best retrieved first, with the scores that are costly to compute."""

    ids: list[str]
    retriever: list[float]  # the retriever's cosine to the user representation, for every candidate
    llm: list[float | None]  # None: not scored by the LLM
    llm_tokens: int = 0  # tokens the LLM read to score them (prompt + titles); not cached
    sources: dict[str, list[str]] = field(default_factory=dict)  # source → the ids it proposed, best first
    kb_match: list[float] = field(default_factory=list)  # per id (``FactIndex.match_scores``); empty: all 0

    @property
    def retrieved(self) -> int:
        """How many of ``ids`` (the first ones) the retriever proposed."""
        return len(self.sources.get("retriever", ()))

    @property
    def co_mentioned(self) -> list[str]:
        return self.sources.get("co_mention", [])

    def to_json(self) -> dict:
        return {"ids": self.ids, "retriever": self.retriever, "llm": self.llm, "kb_match": self.kb_match,
                "sources": self.sources}

    @classmethod
    def from_json(cls, row: Mapping) -> "Candidates":
        return cls(list(row["ids"]), list(row["retriever"]), list(row["llm"]), sources=dict(row.get("sources", {})),
                   kb_match=list(row.get("kb_match", [])))


def popularity_scores(popularity: Sequence[str]) -> dict[str, float]:
    """Catalogue ids best first → 1 − rank / size."""
    size = max(len(popularity), 1)
    return {item: 1.0 - rank / size for rank, item in enumerate(popularity)}


@dataclass(frozen=True)
class TrainingPriors:
    """What is known about items whatever the dialogue at hand: from the training dialogues only (popularity,
    co-mentions, item2vec) and from the KB graph with the training co-mentions (graph embeddings)."""

    popularity: Mapping[str, float]  # item → 1 − rank / size by training mentions
    co_mentions: Mapping[str, Mapping[str, int]]  # item → {item mentioned in the same training dialogue: dialogues}
    vectors: Mapping[str, ItemVectors] = field(default_factory=dict)  # "item2vec", "graph" (when learnt)

    @classmethod
    def from_dialogues(cls, training: Sequence[Dialogue], catalog: Sequence[str], facts: FactIndex | None = None,
                       seed: int = 13, cache: Path | None = None) -> "TrainingPriors":
        """``training`` must be training dialogues only (a fold's, for out-of-fold priors); ``catalog``: every item
        id. With ``facts``, the item representations are learnt too (``llmkb.ranking.items``: seconds for
        item2vec, about half a minute for the graph of ReDial; kept in ``cache`` by their inputs)."""
        popularity = by_mentions(catalog, training)
        co_mentions = co_mention_counts(list(training))
        vectors = {}
        if facts is not None:
            learnt = {"item2vec": train_item2vec(training, catalog, seed, cache),
                      "graph": train_graph(facts, co_mentions, catalog, seed, cache)}
            vectors = {name: v for name, v in learnt.items() if v is not None}
        return cls(popularity_scores(popularity), co_mentions, vectors)

    def co_mention(self, mentioned: Sequence[str]) -> dict[str, float]:
        """Items co-mentioned with the dialogue's movies (``mentioned`` most recent first) → their signal, best first."""
        scores: dict[str, float] = {}
        for recency, movie in enumerate(mentioned):
            for item, dialogues in self.co_mentions.get(movie, {}).items():
                scores[item] = scores.get(item, 0.0) + math.log1p(dialogues) / (1 + recency)
        return dict(sorted(scores.items(), key=lambda kv: (-kv[1], kv[0])))


def signals(candidates: Candidates, mentioned: Sequence[str], priors: TrainingPriors) -> np.ndarray:
    """The (candidates × 6) signal matrix, columns in ``SIGNALS`` order."""
    recency = {item: 1.0 / (1 + rank) for rank, item in enumerate(mentioned)}
    co_mention = priors.co_mention(mentioned)
    llm = np.array([np.nan if s is None else s for s in candidates.llm], dtype=float)
    if np.isnan(llm).all():
        llm[:] = 0.0
    else:
        llm[np.isnan(llm)] = np.nanmin(llm)
    return np.column_stack([
        standardise(np.asarray(candidates.retriever, dtype=float)),
        standardise(llm),
        [recency.get(item, 0.0) for item in candidates.ids],
        [priors.popularity.get(item, 0.0) for item in candidates.ids],
        [co_mention.get(item, 0.0) for item in candidates.ids],
        candidates.kb_match or np.zeros(len(candidates.ids)),
    ])


def fuse(matrix: np.ndarray, weights: FusionWeights) -> list[int]:
    """Candidate indices, best first; ties keep the retrieval order."""
    return np.argsort(-(matrix @ weights.vector()), kind="stable").tolist()


def rank_candidates(candidates: Candidates, mentioned: Sequence[str], priors: TrainingPriors,
                    weights: FusionWeights) -> list[tuple[str, float]]:
    """Candidates best first with their fused scores (``mentioned``: the dialogue's movies, most recent first)."""
    matrix = signals(candidates, mentioned, priors)
    scores = matrix @ weights.vector()
    return [(candidates.ids[i], float(scores[i])) for i in fuse(matrix, weights)]


def standardise(values: np.ndarray) -> np.ndarray:
    """Zero mean, unit spread within one candidate list (all zeros when the values do not vary)."""
    spread = values.std()
    return (values - values.mean()) / spread if spread > 1e-9 else np.zeros_like(values)
