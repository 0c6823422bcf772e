"""Fuse the signals behind a recommendation into one ranking, with weights tuned on the validation split only.

Every candidate carries four signals:

- ``retriever``: the dense retriever's cosine to the user representation;
- ``llm``: the LLM's mean log-likelihood of the candidate's title as the answer to the RAG prompt;
- ``context``: 1 / (1 + recency) when the dialogue already mentioned the movie (most recent = 1), else 0;
- ``popularity``: its rank among training mentions, as 1 − rank / catalogue size.

The retriever and LLM scores are standardised within each candidate list, so the weights are scale-free.
Candidates the LLM did not score get the lowest LLM score of their list.

>>> weights = FusionWeights(retriever=1.0, llm=0.5)
>>> order = fuse(signals(candidates, mentioned, popularity_rank), weights)  # indices into candidates.ids
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from llmkb.data.io import atomic_write_json
from llmkb.errors import LLMKBError

SIGNALS = ("retriever", "llm", "context", "popularity")
GRID = {  # the retriever's weight is fixed at 1: only ratios matter
    "llm": (0.0, 0.1, 0.25, 0.5, 1.0, 2.0),
    "context": (0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0),  # 32: every mentioned movie before the rest
    "popularity": (0.0, 0.25, 0.5, 1.0, 2.0),
}


@dataclass(frozen=True)
class FusionWeights:
    retriever: float = 1.0
    llm: float = 0.5
    context: float = 0.0
    popularity: float = 0.0

    def vector(self) -> np.ndarray:
        return np.array([getattr(self, name) for name in SIGNALS])

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


def signals(candidates: Candidates, mentioned: Sequence[str], popularity: Mapping[str, float]) -> np.ndarray:
    """The (candidates × 4) signal matrix, columns in ``SIGNALS`` order."""
    recency = {item: 1.0 / (1 + rank) for rank, item in enumerate(mentioned)}
    llm = np.array([np.nan if s is None else s for s in candidates.llm], dtype=float)
    if np.isnan(llm).all():
        llm[:] = 0.0
    else:
        llm[np.isnan(llm)] = np.nanmin(llm)
    return np.column_stack([
        _standardise(np.asarray(candidates.retriever, dtype=float)),
        _standardise(llm),
        [recency.get(item, 0.0) for item in candidates.ids],
        [popularity.get(item, 0.0) for item in candidates.ids],
    ])


def fuse(matrix: np.ndarray, weights: FusionWeights) -> list[int]:
    """Candidate indices, best first; ties keep the retrieval order."""
    return np.argsort(-(matrix @ weights.vector()), kind="stable").tolist()


def tune(matrices: Sequence[np.ndarray], candidate_ids: Sequence[list[str]], golds: Sequence[Sequence[str]],
         grid: Mapping[str, Sequence[float]] = GRID) -> tuple[FusionWeights, float]:
    """The grid point that maximises mean Recall@1 + Recall@10 + Recall@50 over the given (validation) samples."""
    if not matrices:
        raise LLMKBError("no validation samples to tune the fusion weights on")
    hits = [np.array([item in set(gold) for item in ids], dtype=float) for ids, gold in zip(candidate_ids, golds)]
    sizes = [max(len(gold), 1) for gold in golds]
    best, best_score = FusionWeights(), -1.0
    for values in itertools.product(*grid.values()):
        weights = FusionWeights(retriever=1.0, **dict(zip(grid, values)))
        vector = weights.vector()
        score = 0.0
        for matrix, hit, size in zip(matrices, hits, sizes):
            ranked = hit[np.argsort(-(matrix @ vector), kind="stable")]
            score += (ranked[:1].sum() + ranked[:10].sum() + ranked[:50].sum()) / size
        if score > best_score + 1e-12:
            best, best_score = weights, score
    return best, best_score / len(matrices)


def _standardise(values: np.ndarray) -> np.ndarray:
    spread = values.std()
    return (values - values.mean()) / spread if spread > 1e-9 else np.zeros_like(values)
