"""One sample's candidates: the ids the candidate sources proposed, with the scores that are costly to compute.

>>> found = Candidates(["a", "b"], retriever=[0.9, 0.5], llm=[None, -1.2], sources={"retriever": ["a", "b"]})
>>> found.retrieved, Candidates.from_json(found.to_json()) == found
(2, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# where candidates come from
SOURCES = ("retriever", "co_mention", "kb", "plot", "item2vec", "graph", "movielens", "mentioned")


@dataclass
class Candidates:
    """One sample's candidates, best retrieved first, with the scores that are costly to compute."""

    ids: list[str]
    retriever: list[float]  # the retriever's cosine to the user representation, for every candidate
    llm: list[float | None]  # None: not scored by the LLM
    llm_tokens: int = 0  # tokens the LLM read to score them (prompt + titles); not cached
    sources: dict[str, list[str]] = field(default_factory=dict)  # source → the ids it proposed, best first
    kb_match: list[float] = field(default_factory=list)  # per id (``FactIndex.match_scores``); empty: all 0
    plot_match: list[float] = field(default_factory=list)  # per id (``PlotIndex.match``); empty: all 0

    @property
    def retrieved(self) -> int:
        """How many of ``ids`` (the first ones) the retriever proposed."""
        return len(self.sources.get("retriever", ()))

    @property
    def co_mentioned(self) -> list[str]:
        return self.sources.get("co_mention", [])

    def to_json(self) -> dict:
        return {"ids": self.ids, "retriever": self.retriever, "llm": self.llm, "kb_match": self.kb_match,
                "plot_match": self.plot_match, "sources": self.sources}

    @classmethod
    def from_json(cls, row: Mapping) -> "Candidates":
        return cls(list(row["ids"]), list(row["retriever"]), list(row["llm"]), sources=dict(row.get("sources", {})),
                   kb_match=list(row.get("kb_match", [])), plot_match=list(row.get("plot_match", [])))
