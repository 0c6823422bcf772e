"""One recommender, built from one config: the product API that ``llmkb chat`` and the demo talk to.

``respond(history, message)`` is a whole turn: the message is read once into a ``TurnState``, candidates are found
and (when the ranking needs it) scored by the LLM, ranked by the learned ranker or the fusion weights the config
names, constrained by the explicit request and the dislikes, post-processed into exactly k distinct catalogue items
with their KB evidence and cues, and a reply names only items of that list (and says which part of a request it had
to relax).
The stages themselves are in ``llmkb.pipeline.stages``; evaluation runs the same stages on its samples.

>>> from llmkb.data.records import CatalogItem
>>> Recommended(CatalogItem("1", "Heat", 1995), 1.2, "Directed by Michael Mann.").item.display
'Heat (1995)'
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from llmkb.data.records import RECOMMENDER, CatalogItem, Turn
from llmkb.kb.facts import Preference, describe
from llmkb.errors import LLMKBError
from llmkb.pipeline.config import RecommenderConfig
from llmkb.pipeline.order import order
from llmkb.pipeline.stages import Stages
from llmkb.ranking import Ranker
from llmkb.ranking.fusion import FusionWeights
from llmkb.ranking.learned import LearnedRanker
from llmkb.retrieval import TurnState


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
    seconds: dict[str, float] = field(default_factory=dict)  # time per stage; "cards": until the items are ready
    tokens: dict[str, int] = field(default_factory=dict)  # tokens each model processed: "retriever", "llm"
    templated: bool = True  # the reply is the fixed template (no LLM, or the LLM named none of the items)
    relaxed: list[Preference] = field(default_factory=list)  # requested facts some of the items lack (too few hold all)
    state: TurnState | None = field(default=None, repr=False)  # the dialogue as read (what the reply is written from)
    notes: list[str] = field(default_factory=list)  # about the message itself: long, off-catalogue, unknown titles

    @property
    def said(self) -> str:
        """What the user reads: the notes on the message, then the reply (the dialogue keeps the reply alone)."""
        return " ".join(filter(None, [*self.notes, self.reply]))


class Recommender:
    """``Recommender(config).respond(history, message)``; it ranks with the learned ranker ``config.ranker`` names,
    else with the fusion weights ``config.weights`` names (the built-in defaults when it names none)."""

    def __init__(self, config: RecommenderConfig = RecommenderConfig(), progress: bool = True):
        self.stages = Stages.load(config, progress)
        self.config = self.stages.config
        self.ranking = ranking_for(self.config, self.stages.uses_llm)

    def respond(self, history: Sequence[Turn], message: str | None, reply: bool = True) -> Recommendation:
        """The user's ``message`` after ``history``: raises ``LLMKBError`` for an empty message, and its
        ``NotEnglish`` (whose text is the reply to give) for one not in English. ``reply=False``:
        the ranked items only, as :meth:`rank` gives them."""
        found = self.rank(history, message)
        return self.reply(found) if reply else found

    def rank(self, history: Sequence[Turn], message: str | None) -> Recommendation:
        """A turn up to its items (what the demo shows first): the reply so far is only the note on a relaxed
        request, and the turns end with the user's; :meth:`reply` completes it."""
        s, config = self.stages, self.config
        started = time.perf_counter()
        turns, unknown, notes = s.reader(history, message)
        state = s.states([turns])[0]
        candidates = s.scored_candidates([state], llm=self.ranking.needs_llm)[0]
        seconds = {"retrieve+score": time.perf_counter() - started}
        fused = dict(self.ranking.rank(candidates, state, s.priors, s.facts))
        ids = order(list(fused), state, s, config.k, exclude_mentioned=config.exclude_mentioned)
        items = [Recommended(s.catalog[i], fused.get(i, 0.0), s.prompts.evidence(i), s.explainer(i, state))
                 for i in ids]
        holding, relaxed = s.request.relaxed(ids, state) if config.constraints else (len(ids), [])
        tokens = {"retriever": s.retriever.query_tokens(state.query)}
        if s.uses_llm:
            tokens["llm"] = candidates.llm_tokens
        detected = [s.catalog[i].display for i in turns[-1].items if i in s.catalog]
        seconds["cards"] = time.perf_counter() - started  # the whole ranking: when the demo can show the cards
        return Recommendation(relaxation_note(holding, relaxed), items, turns, detected, unknown, state.stated,
                              seconds, tokens, True, relaxed, state, notes)

    def reply(self, found: Recommendation) -> Recommendation:
        """``found`` (from :meth:`rank`) with the reply written and the recommender's turn added."""
        *_, done = self.reply_steps(found)
        return done

    def reply_steps(self, found: Recommendation) -> Iterator[str | Recommendation]:
        """:meth:`reply` as it is written: what the user reads so far after each token (strings: the notes, then
        the reply), then the ``Recommendation``, whose reply is the draft aligned with the list.
        ``seconds["first_text"]``: from the start of the turn to the first draft (the cards' time plus the reply's
        first token)."""
        started = time.perf_counter()
        items = found.items
        seconds = dict(found.seconds)
        request = self.stages.reply_request(found.state, [r.item for r in items])
        for reply in self.stages.replies.stream(request):
            seconds.setdefault("first_text", found.seconds.get("cards", 0.0) + time.perf_counter() - started)
            if isinstance(reply, str):
                yield " ".join(filter(None, [*found.notes, found.reply, reply]))
        text = " ".join(filter(None, [found.reply, reply.text]))
        tokens = {**found.tokens, **({"llm": found.tokens.get("llm", 0) + reply.tokens} if reply.tokens else {})}
        said = Turn(RECOMMENDER, text, tuple(r.item.item_id for r in items))  # every card: "not the fourth one"
        yield dataclasses.replace(found, reply=text, turns=[*found.turns, said], tokens=tokens,
                                  seconds={**seconds, "reply": time.perf_counter() - started},
                                  templated=reply.templated)


def ranking_for(config: RecommenderConfig, uses_llm: bool) -> Ranker:
    """What ranks for ``config``: its learned ranker, else its fusion weights, else the built-in weights."""
    if config.ranker:
        if uses_llm:
            raise LLMKBError("the learned ranker ranks without LLM scores; serve it with llm_scoring=False")
        return LearnedRanker.load(config.ranker)
    return FusionWeights.load(config.weights) if config.weights else FusionWeights(llm=0.5 if uses_llm else 0.0)


def relaxation_note(holding: int, relaxed: Sequence[Preference]) -> str:
    """What the reply says when too few items hold the whole request.

    >>> relaxation_note(2, [Preference("year", "1990s", years=(1990, 1999))])
    'Only 2 movies I know match everything you asked for; for the others I relaxed: from the 1990s.'
    """
    if not relaxed:
        return ""
    parts = ", ".join(map(describe, relaxed))
    if not holding:
        return f"No movie I know matches everything you asked for; I relaxed: {parts}."
    return f"Only {holding} movie{'s' if holding > 1 else ''} I know match{'es' if holding == 1 else ''} everything " \
           f"you asked for; for the others I relaxed: {parts}."
