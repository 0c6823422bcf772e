"""One recommender, built from one config: dialogue in, reply + ranked catalogue items with their KB evidence out.

Stages, in order: the dense retriever proposes candidates from the KB, joined by the movies training dialogues
mention together with the dialogue's movies → the LLM scores the top ones of both given a
prompt that fuses the dialogue, the detected preferences and the top KB documents → the signals are fused with
weights tuned on the validation split (``fusion``) → post-processing returns exactly k distinct catalogue items
→ the LLM writes a reply that names only items of that list (``reply``).

This is what ``llmkb chat``, ``llmkb evaluate --system rag`` and the Gradio demo talk to.

>>> rec = Recommender(RecommenderConfig(dataset="redial"))                           # doctest: +SKIP
>>> out = rec.recommend(rec.user_turn([], "I loved The Matrix, any similar sci-fi?"))  # doctest: +SKIP
>>> out.reply, [r.item.display for r in out.items[:3]]                               # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from llmkb.data import load_dataset, mention_counts
from llmkb.data.records import RECOMMENDER, SEEKER, CatalogItem, Turn, mentioned_items
from llmkb.errors import LLMKBError
from llmkb.generation.generate import MAX_NEW_TOKENS, clean_generation, generate_texts
from llmkb.generation.prompt import Prompt, PromptBudget, build_prompt
from llmkb.generation.scorer import score_candidates
from llmkb.models import default_llm_path
from llmkb.paths import artifacts_dir
from llmkb.pipeline.fusion import Candidates, FusionWeights, TrainingPriors, fuse, signals
from llmkb.pipeline.reply import write_reply
from llmkb.postprocess import TitleMatcher, finalize_ranking, normalize_title, template_reply
from llmkb.retrieval import DenseRetriever, best_available
from llmkb.retrieval.index import model_fingerprint

MAX_MESSAGE_CHARS = 2000
RETRIEVED = 50  # candidates taken from the retriever; the LLM scores the top ``llm_candidates`` of them
CO_MENTIONED = 50  # candidates added from training co-mentions with the dialogue's movies (chosen on valid)
LIST_TASK = "List five movies the seeker will like, one per line, written as Title (Year)."
LIST_TOKENS = 60
OPEN_SYSTEM = "You are a movie recommender. Recommend real movies, written as Title (Year)."
# Part of the setup key of cached scores and tuned weights: bump it when a code change alters the candidates or
# their scores (query building, title matching, prompts, scoring), so stale caches are not reused.
SCORES_VERSION = 4  # 3: preference detection no longer depends on the hash seed; 4: co-mentioned candidates


@dataclass
class RecommenderConfig:
    dataset: str = "redial"
    retriever: Path | None = None  # default: the fine-tuned model if trained, else the packaged MiniLM
    llm: Path | None = None  # default: the packaged SmolLM2-135M-Instruct (GGUF)
    use_llm: bool = True  # False: retriever + dialogue signals only, template reply
    lora: Path | None = None  # a LoRA adapter from `llmkb train-llm`
    weights: Path | None = None  # fusion weights; default: those tuned on valid for this setup, if any
    k: int = 5
    llm_candidates: int = 10  # the LLM scores this many top retrieved and top co-mentioned ones, plus mentioned movies
    kb_documents: int = 3  # KB documents of the top candidates shown to the LLM
    prompt_tokens: int = 384  # the prompt's forward pass dominates the cost of a turn on a CPU
    reply_tokens: int = MAX_NEW_TOKENS
    reply_int8: bool = True  # write replies with an int8 copy of the LLM (~3x faster on a CPU); scoring stays float32
    exclude_mentioned: bool = True
    data_dir: Path | None = None


@dataclass
class Recommended:
    item: CatalogItem
    score: float  # fused score
    evidence: str  # the KB document behind the recommendation
    cues: list[str] = field(default_factory=list)  # what in the dialogue points to it


@dataclass
class Recommendation:
    reply: str
    items: list[Recommended]
    detected: list[str] = field(default_factory=list)  # titles recognised in the user's last message
    preferences: list[str] = field(default_factory=list)  # genres, people, ... detected in the seeker's turns
    seconds: dict[str, float] = field(default_factory=dict)  # time per stage
    tokens: dict[str, int] = field(default_factory=dict)  # tokens each model processed: "retriever", "llm"
    templated: bool = True  # the reply is the fixed template (no LLM, or the LLM named none of the items)


class Recommender:
    def __init__(self, config: RecommenderConfig = RecommenderConfig(), progress: bool = True):
        self.config = config
        self.dataset = load_dataset(config.dataset, config.data_dir)
        self.catalog = self.dataset.catalog
        self.retriever_path = Path(config.retriever) if config.retriever else best_available(config.dataset)
        self.retriever = DenseRetriever.for_dataset(self.dataset, self.retriever_path, progress=progress)
        self.documents = {doc.item_id: doc for doc in self.retriever.documents}
        self.matcher = TitleMatcher(self.catalog.values(), popularity=mention_counts(self.dataset.train))
        self.priors = TrainingPriors.from_dialogues(self.dataset.train, self.dataset.popularity)
        by_title: dict[str, list[str]] = {}
        for item in self.catalog.values():
            by_title.setdefault(normalize_title(item.title), []).append(item.item_id)
        self.same_title = {i: ids for ids in by_title.values() for i in ids}  # "The Matrix" and "The Matrix (1999)"
        self.model = self.tokenizer = self.reply_model = None
        if config.use_llm:
            from llmkb.generation import int8_copy, load_llm

            self.model, self.tokenizer = load_llm(config.llm)
            if config.lora:
                from llmkb.generation.lora import load_lora

                self.model = load_lora(self.model, config.lora, merge=True)
            self.reply_model = int8_copy(self.model) if config.reply_int8 else self.model
        self.weights = self._default_weights()

    # -- identity of what produces the scores (for caches and tuned weights) --------------------------------
    @property
    def setup(self) -> dict:
        c = self.config
        llm = None
        if c.use_llm:
            llm = {"model": model_fingerprint(c.llm or default_llm_path())[:16],
                   "lora": model_fingerprint(c.lora)[:16] if c.lora else None,
                   "candidates": c.llm_candidates, "documents": c.kb_documents, "tokens": c.prompt_tokens}
        return {"dataset": c.dataset, "retriever": model_fingerprint(self.retriever_path)[:16], "llm": llm,
                "version": SCORES_VERSION}

    @property
    def setup_key(self) -> str:
        return hashlib.sha256(json.dumps(self.setup, sort_keys=True).encode()).hexdigest()[:16]

    def weights_path(self, protocol: str) -> Path:
        return artifacts_dir() / "fusion" / self.config.dataset / f"{protocol}-{self.setup_key}.json"

    def _default_weights(self) -> FusionWeights:
        """Explicit file > tuned for "dedup" (new movies, as in chat) > tuned for "std" > built-in defaults."""
        if self.config.weights:
            return FusionWeights.load(self.config.weights)
        for protocol in ("dedup", "std"):
            if self.weights_path(protocol).is_file():
                return FusionWeights.load(self.weights_path(protocol))
        return FusionWeights(llm=0.5 if self.model is not None else 0.0)

    # -- stages ------------------------------------------------------------------------------------------------
    def user_turn(self, history: list[Turn], message: str) -> list[Turn]:
        """``history`` plus the user's message as a seeker turn, with the catalogue titles it names."""
        text = " ".join(str(message or "").split())
        if not text:
            raise LLMKBError("the message is empty: tell me a movie you liked, or a genre or actor you enjoy")
        text = text[:MAX_MESSAGE_CHARS]
        return [*history, Turn(SEEKER, text, tuple(self.matcher.match(text).item_ids))]

    def candidates(self, contexts: Sequence[Sequence[Turn]], llm: bool = True) -> list[Candidates]:
        """Retrieved candidates per context (plus the movies it mentions), the top ones scored by the LLM
        (unless ``llm`` is False)."""
        rows = self.retriever.rank([tuple(c) for c in contexts], k=RETRIEVED)
        return [self._score(context, row, llm) for context, row in zip(contexts, rows)]

    def _score(self, context: Sequence[Turn], row: list[tuple[str, float]], llm_scores: bool) -> Candidates:
        ids, scores = [item for item, _ in row], [float(score) for _, score in row]
        floor = min(scores, default=0.0)
        mentioned = [item for item in mentioned_items(context) if item in self.catalog]
        co_mentioned = [item for item in self.priors.co_mention(mentioned) if item in self.catalog][:CO_MENTIONED]
        for item in [*co_mentioned, *mentioned]:
            if item not in ids:
                ids.append(item)
                scores.append(floor)
        llm: list[float | None] = [None] * len(ids)
        tokens = 0
        if self.model is not None and llm_scores and ids:
            top = self.config.llm_candidates
            chosen = list(dict.fromkeys([*range(min(top, len(row))), *(ids.index(item) for item in co_mentioned[:top]),
                                         *(ids.index(item) for item in mentioned)]))
            prompt = self.prompt(context, ids[: self.config.kb_documents])
            titles = [self.catalog[ids[i]].display for i in chosen]
            results = score_candidates(self.model, self.tokenizer, prompt.text, titles)
            for i, result in zip(chosen, results):
                llm[i] = result.mean_logprob
            tokens = prompt.n_tokens + sum(r.n_tokens for r in results)
        return Candidates(ids, scores, llm, tokens)

    def prompt(self, context: Sequence[Turn], document_ids: Sequence[str], task: str | None = None,
               system: str | None = None) -> Prompt:
        documents = [(self.catalog[i].display, self.documents[i].text if i in self.documents else "")
                     for i in document_ids]
        options = {"task": task} if task else {}
        options.update({"system": system} if system else {})
        budget = PromptBudget(max_tokens=self.config.prompt_tokens)
        return build_prompt(self.tokenizer, context, documents, self.retriever.query_builder.preferences(context),
                            budget=budget, **options)

    def fused(self, candidates: Candidates, mentioned: Sequence[str], weights: FusionWeights | None = None
              ) -> list[tuple[str, float]]:
        """Candidates best first with their fused scores."""
        weights = weights or self.weights
        matrix = signals(candidates, mentioned, self.priors)
        scores = matrix @ weights.vector()
        return [(candidates.ids[i], float(scores[i])) for i in fuse(matrix, weights)]

    def generated_titles(self, contexts: Sequence[Sequence[Turn]], with_kb: bool,
                         matcher: TitleMatcher | None = None) -> list[list[str]]:
        """For each context, the catalogue ids of the titles the LLM writes when asked for a list (ablations: no
        ranking by scores). Generated as one batch.

        ``with_kb``: show it the top retrieved KB documents as candidates; else it answers from its own knowledge.
        """
        if self.model is None:
            raise LLMKBError("generated_titles needs the LLM; build the Recommender with use_llm=True")
        contexts = [tuple(context) for context in contexts]
        documents = [[item for item, _ in row] for row in self.retriever.rank(contexts, k=self.config.kb_documents)] \
            if with_kb else [[] for _ in contexts]
        prompts = [self.prompt(context, docs, task=LIST_TASK, system=None if with_kb else OPEN_SYSTEM).text
                   for context, docs in zip(contexts, documents)]
        texts = generate_texts(self.model, self.tokenizer, prompts, max_new_tokens=LIST_TOKENS)
        matcher = matcher or self.matcher
        return [matcher.match(clean_generation(text)).item_ids for text in texts]

    def recommend(self, turns: Sequence[Turn]) -> Recommendation:
        if not turns:
            raise LLMKBError("there is nothing to recommend from yet: start with a message")
        seconds, started = {}, time.perf_counter()
        candidates = self.candidates([turns], llm=self.weights.needs_llm)[0]
        seconds["retrieve+score"] = time.perf_counter() - started
        mentioned = mentioned_items(turns)
        fused = dict(self.fused(candidates, mentioned))
        excluded = [twin for i in mentioned for twin in self.same_title.get(i, [i])] if self.config.exclude_mentioned else []
        k = min(self.config.k, len(self.catalog) - len(set(excluded)))
        ranking = finalize_ranking(list(fused), self.dataset.popularity, k, exclude=excluded, allowed=self.catalog)
        preferences = self.retriever.query_builder.preferences(turns)
        items = [Recommended(self.catalog[i], fused.get(i, 0.0), self.documents[i].text if i in self.documents else "",
                             self._cues(i, mentioned, preferences)) for i in ranking]
        started = time.perf_counter()
        tokens = {"retriever": self.retriever.query_tokens(tuple(turns))}
        if self.model is not None:
            evidence = {r.item.item_id: r.evidence for r in items}
            written = write_reply(self.reply_model, self.tokenizer, turns, [r.item for r in items[:3]], self.matcher,
                                  evidence, preferences, self.config.reply_tokens,
                                  budget=PromptBudget(max_tokens=self.config.prompt_tokens))
            reply, templated, tokens["llm"] = written.text, written.templated, candidates.llm_tokens + written.tokens
        else:
            reply, templated = template_reply([r.item for r in items]), True
        seconds["reply"] = time.perf_counter() - started
        detected = [self.catalog[i].display for i in turns[-1].items if i in self.catalog]
        return Recommendation(reply, items, detected, preferences, seconds, tokens, templated)

    def _cues(self, item_id: str, mentioned: Sequence[str], preferences: list[str]) -> list[str]:
        """Dialogue cues the item's KB document shares: detected preferences, and mentioned movies it relates to."""
        doc = self.documents.get(item_id)
        if doc is None:
            return []
        text = doc.text.lower()
        cues = [f"you mentioned {p.split(' ', 1)[1]}" for p in preferences if p.split(" ", 1)[1].lower() in text]
        related = {**doc.co_mentions}
        for titles in doc.related.values():
            related.update({title: title for title in titles})
        for movie in mentioned:
            item = self.catalog.get(movie)
            if item and (movie in related or item.title in related.values() or item.display in related.values()):
                cues.append(f"related to {item.display}")
        return cues[:4]

    def recommender_turn(self, recommendation: Recommendation) -> Turn:
        return Turn(RECOMMENDER, recommendation.reply, tuple(r.item.item_id for r in recommendation.items[:3]))
