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

Weights come from ``llmkb tune-fusion`` (``llmkb.fitting.tune_fusion``), which writes them beside their provenance
(``llmkb.pipeline.tuned`` says where).

>>> priors = TrainingPriors(popularity={"b": 1.0, "a": 0.5}, co_mentions={"m": {"a": 3}})
>>> candidates = Candidates(["a", "b", "c"], retriever=[0.9, 0.5, 0.1], llm=[None, None, None])
>>> fuse(signals(candidates, ["m"], priors), FusionWeights(llm=0.0, co_mention=1.0))  # indices, best first
[0, 1, 2]
>>> [item for item, _ in rank_candidates(candidates, ["m"], priors, FusionWeights(llm=0.0, popularity=4.0))]
['b', 'a', 'c']
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from llmkb.data.io import atomic_write_json
from llmkb.errors import LLMKBError
from llmkb.kb.facts import FactIndex
from llmkb.priors.training import TrainingPriors
from llmkb.ranking.candidates import Candidates
from llmkb.retrieval.query import TurnState

SIGNALS = ("retriever", "llm", "context", "popularity", "co_mention", "kb_match")


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
