"""Fuse the signals behind a recommendation into one ranking, with weights tuned on the validation split only.

Every candidate carries five signals:

- ``retriever``: the dense retriever's cosine to the user representation;
- ``llm``: the LLM's mean log-likelihood of the candidate's title as the answer to the RAG prompt;
- ``context``: 1 / (1 + recency) when the dialogue already mentioned the movie (most recent = 1), else 0;
- ``popularity``: its rank among training mentions, as 1 − rank / catalogue size;
- ``co_mention``: Σ over the dialogue's mentioned movies of log(1 + how many training dialogues mention both),
  each divided by 1 + its recency (the KB's "often mentioned with" facts, as a number).

The retriever and LLM scores are standardised within each candidate list, so the weights are scale-free.
Candidates the LLM did not score get the lowest LLM score of their list. Popularity and co-mentions come from the
training dialogues only (``TrainingPriors``).

>>> priors = TrainingPriors.from_dialogues(dataset.train, dataset.popularity)
>>> order = fuse(signals(candidates, mentioned, priors), FusionWeights(llm=0.5))  # indices into candidates.ids
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from llmkb.data.io import atomic_write_json
from llmkb.data.records import Dialogue
from llmkb.errors import LLMKBError
from llmkb.kb.documents import co_mention_counts

SIGNALS = ("retriever", "llm", "context", "popularity", "co_mention")
GRID = {  # the retriever's weight is fixed at 1: only ratios matter
    "llm": (0.0, 0.1, 0.25, 0.5, 1.0, 2.0),
    "context": (0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0),  # 32: every mentioned movie before the rest
    "popularity": (0.0, 0.25, 0.5, 1.0, 2.0, 4.0),
    "co_mention": (0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0),
}


@dataclass(frozen=True)
class FusionWeights:
    retriever: float = 1.0
    llm: float = 0.5
    context: float = 0.0
    popularity: float = 0.0
    co_mention: float = 0.0

    def vector(self) -> np.ndarray:
        return np.array([getattr(self, name) for name in SIGNALS])

    @property
    def needs_llm(self) -> bool:
        """A zero LLM weight means the LLM's scores cannot change the ranking, so they need not be computed."""
        return self.llm != 0

    def save(self, path: Path, **provenance) -> None:
        atomic_write_json(path, {"weights": asdict(self), **provenance})

    @classmethod
    def load(cls, path: Path) -> "FusionWeights":
        try:
            values = json.loads(Path(path).read_text())["weights"]
            return cls(**{f.name: float(values[f.name]) for f in fields(cls)})
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise LLMKBError(f"cannot read fusion weights from {path} ({error}); re-run `llmkb tune-fusion`") from error


@dataclass
class Candidates:
    """One sample's candidates, best retrieved first, with the scores that are costly to compute."""

    ids: list[str]
    retriever: list[float]
    llm: list[float | None]  # None: not scored by the LLM
    llm_tokens: int = 0  # tokens the LLM read to score them (prompt + titles); not cached

    def to_json(self) -> dict:
        return {"ids": self.ids, "retriever": self.retriever, "llm": self.llm}

    @classmethod
    def from_json(cls, row: Mapping) -> "Candidates":
        return cls(list(row["ids"]), list(row["retriever"]), list(row["llm"]))


def popularity_scores(popularity: Sequence[str]) -> dict[str, float]:
    """Catalogue ids best first → 1 − rank / size."""
    size = max(len(popularity), 1)
    return {item: 1.0 - rank / size for rank, item in enumerate(popularity)}


@dataclass(frozen=True)
class TrainingPriors:
    """What the training dialogues say about items, whatever the dialogue at hand."""

    popularity: Mapping[str, float]  # item → 1 − rank / size by training mentions
    co_mentions: Mapping[str, Mapping[str, int]]  # item → {item mentioned in the same training dialogue: dialogues}

    @classmethod
    def from_dialogues(cls, training: Sequence[Dialogue], popularity: Sequence[str]) -> "TrainingPriors":
        """``training`` must be training dialogues only; ``popularity``: catalogue ids by training mentions."""
        return cls(popularity_scores(popularity), co_mention_counts(list(training)))

    def co_mention(self, mentioned: Sequence[str]) -> dict[str, float]:
        """Items co-mentioned with the dialogue's movies (``mentioned`` most recent first) → their signal, best first."""
        scores: dict[str, float] = {}
        for recency, movie in enumerate(mentioned):
            for item, dialogues in self.co_mentions.get(movie, {}).items():
                scores[item] = scores.get(item, 0.0) + math.log1p(dialogues) / (1 + recency)
        return dict(sorted(scores.items(), key=lambda kv: (-kv[1], kv[0])))


def signals(candidates: Candidates, mentioned: Sequence[str], priors: TrainingPriors) -> np.ndarray:
    """The (candidates × 5) signal matrix, columns in ``SIGNALS`` order."""
    recency = {item: 1.0 / (1 + rank) for rank, item in enumerate(mentioned)}
    co_mention = priors.co_mention(mentioned)
    llm = np.array([np.nan if s is None else s for s in candidates.llm], dtype=float)
    if np.isnan(llm).all():
        llm[:] = 0.0
    else:
        llm[np.isnan(llm)] = np.nanmin(llm)
    return np.column_stack([
        _standardise(np.asarray(candidates.retriever, dtype=float)),
        _standardise(llm),
        [recency.get(item, 0.0) for item in candidates.ids],
        [priors.popularity.get(item, 0.0) for item in candidates.ids],
        [co_mention.get(item, 0.0) for item in candidates.ids],
    ])


def fuse(matrix: np.ndarray, weights: FusionWeights) -> list[int]:
    """Candidate indices, best first; ties keep the retrieval order."""
    return np.argsort(-(matrix @ weights.vector()), kind="stable").tolist()


def tune(matrices: Sequence[np.ndarray], candidate_ids: Sequence[list[str]], golds: Sequence[Sequence[str]],
         grid: Mapping[str, Sequence[float]] = GRID) -> tuple[FusionWeights, float]:
    """The grid point that maximises mean Recall@1 + Recall@10 + Recall@50 over the given (validation) samples."""
    if not matrices:
        raise LLMKBError("no validation samples to tune the fusion weights on")
    points = [FusionWeights(retriever=1.0, **dict(zip(grid, values))) for values in itertools.product(*grid.values())]
    vectors = np.stack([weights.vector() for weights in points], axis=1)  # signals × grid points
    totals = np.zeros(len(points))
    for matrix, ids, gold in zip(matrices, candidate_ids, golds):
        gold = set(gold)
        hit = np.array([item in gold for item in ids], dtype=float)
        ranked = hit[np.argsort(-(matrix @ vectors), axis=0, kind="stable")]  # candidates × grid points
        totals += (ranked[:1].sum(0) + ranked[:10].sum(0) + ranked[:50].sum(0)) / max(len(gold), 1)
    best = int(np.flatnonzero(totals >= totals.max() - 1e-9)[0])  # the first of equals: smaller weights first
    return points[best], float(totals[best]) / len(matrices)


def _standardise(values: np.ndarray) -> np.ndarray:
    spread = values.std()
    return (values - values.mean()) / spread if spread > 1e-9 else np.zeros_like(values)
