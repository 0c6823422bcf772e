"""One recommender, built from one config: the product API that ``llmkb chat`` and the demo talk to.

``respond(history, message)`` is a whole turn: the message is read once into a ``TurnState``, candidates are found
and (when the fusion weights need it) scored by the LLM, fused with the weights the config names, post-processed
into exactly k distinct catalogue items with their KB evidence and cues, and a reply names only items of that list.
The stages themselves are in ``llmkb.pipeline.stages``; evaluation runs the same stages on its samples.

>>> from llmkb.data.records import CatalogItem
>>> Recommended(CatalogItem("1", "Heat", 1995), 1.2, "Directed by Michael Mann.").item.display
'Heat (1995)'
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from llmkb.data.records import RECOMMENDER, CatalogItem, Turn
from llmkb.pipeline.config import RecommenderConfig
from llmkb.pipeline.fusion import FusionWeights, rank_candidates
from llmkb.pipeline.stages import Stages
from llmkb.postprocess import finalize_ranking
from llmkb.retrieval import Preference


@dataclass
class Recommended:
    item: CatalogItem
    score: float  # fused score
    evidence: str  # the KB document behind the recommendation
    cues: list[str] = field(default_factory=list)  # what in the dialogue points to it


@dataclass
class Recommendation:
    """One turn's outcome: the reply, the items, and the dialogue with both new turns."""

    reply: str
    items: list[Recommended]
    turns: list[Turn] = field(default_factory=list)  # the history, the user's turn and the recommender's turn
    detected: list[str] = field(default_factory=list)  # catalogue titles recognised in the user's message
    unknown: list[str] = field(default_factory=list)  # titles the message names that the catalogue lacks
    preferences: list[Preference] = field(default_factory=list)  # genres, people, ... named in the seeker's turns
    seconds: dict[str, float] = field(default_factory=dict)  # time per stage
    tokens: dict[str, int] = field(default_factory=dict)  # tokens each model processed: "retriever", "llm"
    templated: bool = True  # the reply is the fixed template (no LLM, or the LLM named none of the items)


class Recommender:
    """``Recommender(config).respond(history, message)``; the fusion weights are those ``config.weights`` names
    (the built-in defaults when it names none)."""

    def __init__(self, config: RecommenderConfig = RecommenderConfig(), progress: bool = True):
        self.stages = Stages.load(config, progress)
        self.config = self.stages.config
        self.weights = FusionWeights.load(config.weights) if config.weights else \
            FusionWeights(llm=0.5 if self.stages.uses_llm else 0.0)

    def respond(self, history: Sequence[Turn], message: str | None) -> Recommendation:
        """The user's ``message`` after ``history``: raises ``LLMKBError`` for an empty message."""
        s, config = self.stages, self.config
        started = time.perf_counter()
        turns, unknown = s.reader(history, message)
        state = s.states([turns])[0]
        candidates = s.scored_candidates([state], llm=self.weights.needs_llm)[0]
        seconds = {"retrieve+score": time.perf_counter() - started}
        fused = dict(rank_candidates(candidates, state.mentioned, s.priors, self.weights))
        excluded = [twin for i in state.mentioned for twin in s.same_title.get(i, [i])] \
            if config.exclude_mentioned else []
        k = min(config.k, len(s.catalog) - len(set(excluded)))
        ranking = finalize_ranking(list(fused), s.dataset.popularity, k, exclude=excluded, allowed=s.catalog)
        items = [Recommended(s.catalog[i], fused.get(i, 0.0), s.prompts.evidence(i), s.explainer(i, state))
                 for i in ranking]
        started = time.perf_counter()
        reply = s.replies(state, [r.item for r in items], {r.item.item_id: r.evidence for r in items})
        seconds["reply"] = time.perf_counter() - started
        tokens = {"retriever": s.retriever.query_tokens(state.query)}
        if s.uses_llm:
            tokens["llm"] = candidates.llm_tokens + reply.tokens
        said = Turn(RECOMMENDER, reply.text, tuple(r.item.item_id for r in items[:3]))
        detected = [s.catalog[i].display for i in turns[-1].items if i in s.catalog]
        return Recommendation(reply.text, items, [*turns, said], detected, unknown, list(state.preferences), seconds,
                              tokens, reply.templated)
