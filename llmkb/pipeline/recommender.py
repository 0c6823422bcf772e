"""One recommender, built from one config: dialogue in, reply + ranked catalogue items with their KB evidence out.

This is what ``llmkb chat`` (and later the Gradio demo) talk to. It retrieves with the dense retriever, always
returns exactly k distinct catalogue items, and writes a reply that names only items of its list.

>>> rec = Recommender(RecommenderConfig(dataset="redial"))                           # doctest: +SKIP
>>> out = rec.recommend(rec.user_turn([], "I loved The Matrix, any similar sci-fi?"))  # doctest: +SKIP
>>> [r.item.display for r in out.items[:3]]                                          # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from llmkb.data import load_dataset, mention_counts
from llmkb.data.records import RECOMMENDER, SEEKER, CatalogItem, Turn
from llmkb.errors import LLMKBError
from llmkb.evaluation.systems import default_finetuned_path, popularity_ranking
from llmkb.postprocess import TitleMatcher, finalize_ranking, template_reply
from llmkb.retrieval import DenseRetriever

MAX_MESSAGE_CHARS = 2000


@dataclass
class RecommenderConfig:
    dataset: str = "redial"
    retriever: Path | None = None  # default: the fine-tuned model if trained, else the packaged MiniLM
    k: int = 5
    exclude_mentioned: bool = True
    data_dir: Path | None = None


@dataclass
class Recommended:
    item: CatalogItem
    score: float
    evidence: str  # the KB document behind the recommendation


@dataclass
class Recommendation:
    reply: str
    items: list[Recommended]
    detected: list[str] = field(default_factory=list)  # titles recognised in the user's message


class Recommender:
    def __init__(self, config: RecommenderConfig = RecommenderConfig(), progress: bool = True):
        self.config = config
        self.dataset = load_dataset(config.dataset, config.data_dir)
        path = config.retriever
        if path is None and (default_finetuned_path(config.dataset) / "modules.json").is_file():
            path = default_finetuned_path(config.dataset)
        self.retriever_path = path
        self.retriever = DenseRetriever.for_dataset(self.dataset, path, progress=progress)
        self.evidence = {doc.item_id: doc.text for doc in self.retriever.documents}
        self.matcher = TitleMatcher(self.dataset.catalog.values(), popularity=mention_counts(self.dataset.train))
        self.fallback = popularity_ranking(self.dataset)

    def user_turn(self, history: list[Turn], message: str) -> list[Turn]:
        """``history`` plus the user's message as a seeker turn, with the catalogue titles it names."""
        text = " ".join(message.split())
        if not text:
            raise LLMKBError("the message is empty: tell me a movie you liked, or a genre or actor you enjoy")
        text = text[:MAX_MESSAGE_CHARS]
        return [*history, Turn(SEEKER, text, tuple(self.matcher.match(text).item_ids))]

    def recommend(self, turns: list[Turn]) -> Recommendation:
        mentioned = list(dict.fromkeys(item for turn in reversed(turns) for item in turn.items))
        scored = dict(self.retriever.rank([tuple(turns)], k=100)[0])
        ranking = finalize_ranking(list(scored), self.fallback, self.config.k,
                                   exclude=mentioned if self.config.exclude_mentioned else (),
                                   allowed=self.dataset.catalog)
        items = [Recommended(self.dataset.catalog[i], scored.get(i, 0.0), self.evidence.get(i, "")) for i in ranking]
        detected = [self.dataset.catalog[i].display for i in turns[-1].items] if turns else []
        return Recommendation(template_reply([r.item for r in items]), items, detected)

    def recommender_turn(self, recommendation: Recommendation) -> Turn:
        return Turn(RECOMMENDER, recommendation.reply, tuple(r.item.item_id for r in recommendation.items[:3]))
