"""What is known about items whatever the dialogue at hand: popularity, co-mentions and the learnt item
representations (``llmkb.priors.items``) from the training dialogues only, and the item–item model of external
behaviour data (``llmkb.priors.behaviour``: MovieLens ratings, no dialogue).

>>> priors = TrainingPriors(popularity={"b": 1.0, "a": 0.5}, co_mentions={"m": {"a": 3, "b": 1}})
>>> list(priors.co_mention(["m"]))
['a', 'b']
>>> popularity_scores(["b", "a"])
{'b': 1.0, 'a': 0.5}
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from llmkb.data.records import Dialogue
from llmkb.data.samples import by_mentions
from llmkb.kb.documents import co_mention_counts
from llmkb.kb.facts import FactIndex
from llmkb.paths import artifacts_dir
from llmkb.priors.behaviour import ItemScores
from llmkb.priors.items import ItemVectors, train_graph, train_item2vec


def items_cache(dataset: str) -> Path:
    """Where the item representations of ``dataset`` are kept, by their inputs."""
    return artifacts_dir() / "items" / dataset


def popularity_scores(popularity: Sequence[str]) -> dict[str, float]:
    """Catalogue ids best first → 1 − rank / size."""
    size = max(len(popularity), 1)
    return {item: 1.0 - rank / size for rank, item in enumerate(popularity)}


@dataclass(frozen=True)
class TrainingPriors:
    """What is known about items whatever the dialogue at hand: from the training dialogues only (popularity,
    co-mentions, item2vec), from the KB graph with the training co-mentions (graph embeddings) and from MovieLens
    (``movielens``: an item–item model of its ratings)."""

    popularity: Mapping[str, float]  # item → 1 − rank / size by training mentions
    co_mentions: Mapping[str, Mapping[str, int]]  # item → {item mentioned in the same training dialogue: dialogues}
    vectors: Mapping[str, ItemVectors | ItemScores] = field(default_factory=dict)  # "item2vec", "graph", "movielens"

    @classmethod
    def from_dialogues(cls, training: Sequence[Dialogue], catalog: Sequence[str], facts: FactIndex | None = None,
                       seed: int = 13, cache: Path | None = None,
                       behaviour: ItemScores | None = None) -> "TrainingPriors":
        """``training`` must be training dialogues only (a fold's, for out-of-fold priors); ``catalog``: every item
        id. With ``facts``, the item representations are learnt too (``llmkb.priors.items``: seconds for
        item2vec, about half a minute for the graph of ReDial; kept in ``cache`` by their inputs). ``behaviour``: the
        MovieLens model (``behaviour_scores``), the same for every fold since it reads no dialogue."""
        popularity = by_mentions(catalog, training)
        co_mentions = co_mention_counts(list(training))
        vectors = {}
        if facts is not None:
            learnt = {"item2vec": train_item2vec(training, catalog, seed, cache),
                      "graph": train_graph(facts, co_mentions, catalog, seed, cache)}
            vectors = {name: v for name, v in learnt.items() if v is not None}
        if behaviour is not None:
            vectors["movielens"] = behaviour
        return cls(popularity_scores(popularity), co_mentions, vectors)

    def co_mention(self, mentioned: Sequence[str]) -> dict[str, float]:
        """Items co-mentioned with the dialogue's movies (``mentioned`` most recent first) → their signal, best first."""
        scores: dict[str, float] = {}
        for recency, movie in enumerate(mentioned):
            for item, dialogues in self.co_mentions.get(movie, {}).items():
                scores[item] = scores.get(item, 0.0) + math.log1p(dialogues) / (1 + recency)
        return dict(sorted(scores.items(), key=lambda kv: (-kv[1], kv[0])))
