"""Ranking one sample's candidates, below the pipeline: the candidates themselves (``candidates``), the linear
fusion of six signals (``fusion``), every feature of a candidate (``features``) and the learned ranker (``learned``).

Both rankers offer the same :class:`Ranker` interface, so the pipeline and evaluation use either alike.

>>> from llmkb.ranking.fusion import FusionWeights
>>> isinstance(FusionWeights(), Ranker), FusionWeights(llm=0.0).needs_llm
(True, False)
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from llmkb.kb.facts import FactIndex
from llmkb.priors.training import TrainingPriors
from llmkb.ranking.candidates import Candidates
from llmkb.retrieval.query import TurnState


@runtime_checkable
class Ranker(Protocol):
    """Orders one sample's candidates; ``needs_llm``: whether it reads the LLM's scores (else they are not computed)."""

    @property
    def needs_llm(self) -> bool: ...

    def rank(self, candidates: Candidates, state: TurnState, priors: TrainingPriors,
             facts: FactIndex | None = None) -> list[tuple[str, float]]: ...
