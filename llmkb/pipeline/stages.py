"""The recommender's stages, one concept each, in the order a turn flows through them.

message → :class:`MessageReader` (a seeker turn with the catalogue titles it names) → ``QueryBuilder.state`` (a
``TurnState``: mentioned movies, preferences linked to the KB, query; read once) → :class:`CandidateFinder`
(retrieved, co-mentioned, KB-matching and mentioned movies) → :class:`LLMScorer` (the LLM's likelihood of the top
ones, given the :class:`PromptWriter`'s prompt) → the ranker (``llmkb.ranking``) → :class:`RequestFilter` (the
explicit request and the dislikes as constraints; ``llmkb.pipeline.order`` makes the final list with it) →
:class:`Explainer` (the KB facts and dialogue cues behind each item) → :class:`ReplyWriter`.

:meth:`Stages.load` builds them all from one ``RecommenderConfig``; the Recommender composes them for chat, and
evaluation runs the same ones on its samples.

>>> from llmkb.data.records import CatalogItem
>>> reader = MessageReader(TitleMatcher([CatalogItem("1", "Heat", 1995)]))
>>> read = reader([], "  I loved   Heat (1995) ")
>>> read.turns[-1].text, read.turns[-1].items, read.unknown, read.notes
('I loved Heat (1995)', ('1',), [], [])
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from llmkb.data import Dataset, load_dataset, mention_counts
from llmkb.data.records import SEEKER, CatalogItem, Turn
from llmkb.generation.generate import clean_generation, generate_texts
from llmkb.generation.prompt import Prompt, PromptBudget, build_prompt
from llmkb.generation.scorer import score_candidates
from llmkb.kb.documents import KBDocument
from llmkb.kb.facts import FactIndex, Preference, describe
from llmkb.kb.linking import EntityLinker
from llmkb.kb.plots import PlotIndex
from llmkb.pipeline.config import RecommenderConfig
from llmkb.pipeline.guards import CATALOGUE_NAMES, read_message, unknown_titles_note
from llmkb.pipeline.reply import Reply, ReplyRequest, stream_reply, templated, write_replies
from llmkb.postprocess import TitleMatcher, normalize_title
from llmkb.postprocess.grounding import GroundingChecker
from llmkb.postprocess.titles import outside_names
from llmkb.postprocess.reply import TEMPLATE_ITEMS
from llmkb.priors.behaviour import dataset_behaviour
from llmkb.priors.items import preference_nodes
from llmkb.priors.training import TrainingPriors, items_cache
from llmkb.ranking.candidates import Candidates
from llmkb.retrieval import DenseRetriever, TurnState

RETRIEVED = 50  # candidates taken from the retriever; the LLM scores the top ``llm_candidates`` of them
CO_MENTIONED = 50  # candidates added from training co-mentions with the dialogue's movies (chosen on valid)
KB_CANDIDATES = 50  # candidates added from the KB's inverted index: the items holding the linked preferences
PLOT_CANDIDATES = 50  # candidates added from the plots that best match the seeker's own words
LEARNT_CANDIDATES = 50  # candidates added from each item representation (item2vec, graph, movielens) nearest the dialogue
MAX_CUES = 4
DEFAULT_REASONS = ("director", "starring", "genre")  # the KB facts a reply may give when none was asked for
REASONS = (*DEFAULT_REASONS, "writer", "year")  # the seeker's preferences a reply may say an item holds


class Read(NamedTuple):
    turns: list[Turn]  # the history and the user's turn
    unknown: list[str]  # titles the message names that the catalogue lacks
    notes: list[str]  # what the reply says first about the message itself (``llmkb.pipeline.guards``)


class MessageReader:
    """The user's message as a seeker turn, read through the guards (``llmkb.pipeline.guards``: whitespace collapsed,
    cut to ``MAX_MESSAGE_CHARS``; an empty or non-English message raises), with the catalogue titles it names, the
    titles it names that are not in the catalogue, and the notes the reply starts with. A title without a year
    inside a person's name ("Wilson" in "Owen Wilson") is the person, not the movie; one inside a series said as one
    ("any of the Toy Story films") is the series."""

    def __init__(self, matcher: TitleMatcher, linker: EntityLinker | None = None, catalogue: str = "movie"):
        self.matcher, self.linker, self.catalogue = matcher, linker, catalogue

    def __call__(self, history: Sequence[Turn], message: str | None) -> Read:
        text, notes = read_message(message, self.catalogue)
        matches = self.matcher.match(text, typed=True)
        if self.linker:
            matches = outside_names(matches, self.linker.person_spans(text))
            matches = outside_names(matches, self.linker.series_spans(text), any_length=True)
        unknown = list(matches.dropped)
        notes += [unknown_titles_note(unknown, self.catalogue)] if unknown else []
        return Read([*history, Turn(SEEKER, text, tuple(matches.item_ids))], unknown, notes)


class CandidateFinder:
    """Per dialogue, up to 50 candidates from each source, in this order (each item once): the retriever's best
    items, the movies training dialogues mention together with the dialogue's movies, the items whose KB facts hold
    the linked preferences (unless ``kb_candidates`` is off), the items whose plots best match the seeker's words,
    the items nearest the dialogue in item2vec, in the graph embedding and in MovieLens's item–item model (when the
    priors hold them), then the dialogue's own movies; every candidate with its retriever cosine, its KB-match score
    and its plot-match score."""

    def __init__(self, retriever: DenseRetriever, priors: TrainingPriors, catalog: Mapping[str, CatalogItem],
                 facts: FactIndex, plots: PlotIndex, kb_candidates: bool = True):
        self.retriever, self.priors, self.catalog = retriever, priors, catalog
        self.facts, self.plots, self.kb_candidates = facts, plots, kb_candidates

    def __call__(self, states: Sequence[TurnState]) -> list[Candidates]:
        embeddings = self.retriever.encode([state.query for state in states])
        rows = self.retriever.index.search(embeddings, RETRIEVED)
        return [self._join(state, row, embedding) for state, row, embedding in zip(states, rows, embeddings)]

    def sources(self, state: TurnState, row: list[tuple[str, float]], plots: Mapping[str, float]
                ) -> dict[str, list[str]]:
        """Each source's candidates for one dialogue, best first (catalogue items only); ``row``: the retriever's,
        ``plots``: how well each plot matches the seeker's words (``PlotIndex.match``)."""
        mentioned = [item for item in state.mentioned if item in self.catalog]
        found = {"retriever": [item for item, _ in row],
                 "co_mention": [item for item in self.priors.co_mention(mentioned) if item in self.catalog][:CO_MENTIONED]}
        if self.kb_candidates:
            found["kb"] = [item for item in self.facts.candidates(state.preferences, self.priors.popularity,
                                                                   KB_CANDIDATES) if item in self.catalog]
        found["plot"] = [item for item in plots if item in self.catalog][:PLOT_CANDIDATES]
        for name, vectors in self.priors.vectors.items():
            nodes = preference_nodes(state.preferences, self.facts) if name == "graph" else []
            profile = vectors.profile([*mentioned, *nodes])
            found[name] = [item for item, _ in vectors.nearest(profile, LEARNT_CANDIDATES) if item in self.catalog]
        found["mentioned"] = mentioned
        return found

    def _join(self, state: TurnState, row: list[tuple[str, float]], embedding) -> Candidates:
        plots = self.plots.match(state.description)
        sources = self.sources(state, row, plots)
        ids = list(dict.fromkeys(item for found in sources.values() for item in found))
        return Candidates(ids, self.retriever.index.cosines(embedding, ids), [None] * len(ids), sources=sources,
                          kb_match=self.facts.match_scores(ids, state.preferences),
                          plot_match=[plots.get(item, 0.0) for item in ids])


class PromptWriter:
    """The LLM's prompt: the dialogue, its preferences and the KB documents of the given items, within budget."""

    def __init__(self, tokenizer, catalog: Mapping[str, CatalogItem], documents: Mapping[str, KBDocument],
                 max_tokens: int):
        self.tokenizer, self.catalog, self.documents = tokenizer, catalog, documents
        self.budget = PromptBudget(max_tokens=max_tokens)

    def evidence(self, item_id: str) -> str:
        """The KB document text of an item ("" when it has none)."""
        doc = self.documents.get(item_id)
        return doc.text if doc else ""

    def __call__(self, state: TurnState, document_ids: Sequence[str], task: str | None = None,
                 system: str | None = None) -> Prompt:
        documents = [(self.catalog[i].display, self.evidence(i)) for i in document_ids]
        options = {"task": task} if task else {}
        options.update({"system": system} if system else {})
        return build_prompt(self.tokenizer, state.turns, documents, [str(p) for p in state.stated],
                            budget=self.budget, **options)


class LLMScorer:
    """The LLM's mean log-likelihood of each top candidate's title as the answer to the ranking prompt: the top
    ``top`` retrieved, the top ``top`` co-mentioned and every mentioned movie."""

    def __init__(self, model, tokenizer, prompts: PromptWriter, top: int, kb_documents: int):
        self.model, self.tokenizer, self.prompts = model, tokenizer, prompts
        self.top, self.kb_documents = top, kb_documents

    def __call__(self, state: TurnState, candidates: Candidates) -> Candidates:
        ids = candidates.ids
        if not ids:
            return candidates
        mentioned = [item for item in state.mentioned if item in self.prompts.catalog]
        chosen = list(dict.fromkeys([*range(min(self.top, candidates.retrieved)),
                                     *(ids.index(item) for item in candidates.co_mentioned[: self.top]),
                                     *(ids.index(item) for item in mentioned)]))
        prompt = self.prompts(state, ids[: self.kb_documents])
        titles = [self.prompts.catalog[ids[i]].display for i in chosen]
        results = score_candidates(self.model, self.tokenizer, prompt.text, titles)
        llm = list(candidates.llm)
        for i, result in zip(chosen, results):
            llm[i] = result.mean_logprob
        tokens = prompt.n_tokens + sum(r.n_tokens for r in results)
        return dataclasses.replace(candidates, llm=llm, llm_tokens=tokens)


class TitleWriter:
    """The catalogue ids of the titles the LLM writes when asked for a list (ablations: no ranking by scores)."""

    TASK = "List five movies the seeker will like, one per line, written as Title (Year)."
    OPEN_SYSTEM = "You are a movie recommender. Recommend real movies, written as Title (Year)."
    TOKENS = 60

    def __init__(self, model, tokenizer, prompts: PromptWriter, retriever: DenseRetriever, kb_documents: int):
        self.model, self.tokenizer, self.prompts = model, tokenizer, prompts
        self.retriever, self.kb_documents = retriever, kb_documents

    def __call__(self, states: Sequence[TurnState], with_kb: bool, matcher: TitleMatcher) -> list[list[str]]:
        """``with_kb``: show the top retrieved KB documents as candidates; else it answers from its own knowledge.
        Generated as one batch."""
        documents = [[item for item, _ in row] for row in self.retriever.search(
            [s.query for s in states], k=self.kb_documents)] if with_kb else [[] for _ in states]
        prompts = [self.prompts(state, docs, task=self.TASK, system=None if with_kb else self.OPEN_SYSTEM).text
                   for state, docs in zip(states, documents)]
        texts = generate_texts(self.model, self.tokenizer, prompts, max_new_tokens=self.TOKENS)
        return [matcher.match(clean_generation(text)).item_ids for text in texts]


class RequestFilter:
    """The explicit request as constraints on what is recommended: no item holding a dislike (a movie, genre,
    person, ... the seeker ruled out) is kept, and the first ``k`` new items are those that hold the most of what
    the latest request asks for (all of it when enough do; a refinement's own facts first, then those of the request
    it refines), in the fused order; the rest follow in the fused order.
    Movies the dialogue mentioned keep their places (chat never recommends them again). The ranking is only
    filtered and reordered, so nothing outside it (or the catalogue) comes in."""

    def __init__(self, facts: FactIndex):
        self.facts = facts

    def __call__(self, ranking: Sequence[str], state: TurnState, k: int) -> list[str]:
        request = state.request
        if not request:  # most turns: nothing to check (the fallback it also filters is the whole catalogue)
            return list(ranking)
        unwanted = [p for p in request if p.polarity < 0]
        wanted = [p for p in request if p.polarity > 0]
        kept = [item for item in ranking if not any(self.facts.satisfies(item, p) for p in unwanted)]
        mentioned = set(state.mentioned)
        new = [item for item in kept if item not in mentioned]
        latest = max((p.turn for p in wanted), default=-1)  # what was just asked outranks a request it refines
        held = {item: (sum(self.facts.satisfies(item, p) for p in wanted if p.turn == latest),
                       sum(self.facts.satisfies(item, p) for p in wanted)) for item in new}
        first = sorted(new, key=lambda item: (-held[item][0], -held[item][1]))[:k]
        chosen = set(first)
        new_order = iter([*first, *(item for item in new if item not in chosen)])
        return [item if item in mentioned else next(new_order) for item in kept]

    def relaxed(self, items: Sequence[str], state: TurnState) -> tuple[int, list[Preference]]:
        """How many of ``items`` hold the whole request, and the wanted facts that some of the others lack."""
        wanted = [p for p in state.request if p.polarity > 0]
        lacking = [[p for p in wanted if not self.facts.satisfies(item, p)] for item in items]
        missing = list(dict.fromkeys(p for gaps in lacking for p in gaps))
        return sum(not gaps for gaps in lacking), missing


class Explainer:
    """Why an item fits: the KB facts it holds that the seeker asked for ("directed by Martin Scorsese, as you
    asked"), and the mentioned movies it relates to (co-mentioned in training, or linked in the KG)."""

    def __init__(self, catalog: Mapping[str, CatalogItem], documents: Mapping[str, KBDocument], facts: FactIndex):
        self.catalog, self.documents, self.facts = catalog, documents, facts

    def __call__(self, item_id: str, state: TurnState) -> list[str]:
        doc = self.documents.get(item_id)
        if doc is None:
            return []
        asked = {(p.turn, p.span) for p in state.request}
        cues = [describe(p) + (", as you asked" if (p.turn, p.span) in asked else "")
                for p in self.facts.matched(item_id, state.stated)]
        related = {**doc.co_mentions}
        for titles in doc.related.values():
            related.update({title: title for title in titles})
        for movie in state.mentioned:
            item = self.catalog.get(movie)
            if item and (movie in related or item.title in related.values() or item.display in related.values()):
                cues.append(f"related to {item.display}")
        return cues[:MAX_CUES]

    def reasons(self, item_id: str, state: TurnState) -> list[str]:
        """KB facts that say why the item fits, for the reply: the seeker's preferences it holds, then its director,
        lead star and first genre (facts only: a reply names no movie outside its list)."""
        doc = self.documents.get(item_id)
        if doc is None:
            return []
        matched = [describe(p) for p in self.facts.matched(item_id, state.stated) if p.relation in REASONS]
        known = [describe(Preference(relation, doc.facts[relation][0])) for relation in DEFAULT_REASONS
                 if doc.facts.get(relation)]
        return list(dict.fromkeys(matched + known))[:MAX_CUES]


class ReplyWriter:
    """The reply that goes with the final list: written by the LLM and checked (``llmkb.pipeline.reply``), or the
    template (with reasons) without an LLM."""

    def __init__(self, model, tokenizer, matcher: TitleMatcher, checker: GroundingChecker, max_new_tokens: int,
                 prompt_tokens: int, lookup: int = 0):
        self.model, self.tokenizer, self.matcher, self.checker = model, tokenizer, matcher, checker
        self.max_new_tokens, self.budget = max_new_tokens, PromptBudget(max_tokens=prompt_tokens)
        self.lookup = lookup  # tokens a streamed reply drafts from its prompt a step (0: one token a step)

    def stream(self, request: ReplyRequest) -> Iterator[str | Reply]:
        """Drafts as the LLM writes them, then the checked :class:`Reply` (only the template without an LLM)."""
        if self.model is None:
            yield templated(request)
            return
        yield from stream_reply(self.model, self.tokenizer, request, self.matcher, self.checker,
                                self.max_new_tokens, self.budget, self.lookup)

    def __call__(self, requests: Sequence[ReplyRequest], progress: bool = False) -> list[Reply]:
        """The replies to many requests (batched generation, for evaluation)."""
        if self.model is None:
            return [templated(request) for request in requests]
        return write_replies(self.model, self.tokenizer, requests, self.matcher, self.checker,
                             self.max_new_tokens, self.budget, progress)


@dataclass
class Stages:
    """Every stage of one recommender, loaded once from a config (models, KB, index, training priors)."""

    config: RecommenderConfig  # resolved: names the retriever it uses
    dataset: Dataset
    retriever: DenseRetriever
    matcher: TitleMatcher
    priors: TrainingPriors
    reader: MessageReader
    candidates: CandidateFinder
    prompts: PromptWriter
    scorer: LLMScorer | None  # None without an LLM
    titles: TitleWriter | None
    request: RequestFilter
    explainer: Explainer
    replies: ReplyWriter
    same_title: dict[str, list[str]]  # item → every item with its title ("Heat (1995)" and "Heat (1986)")

    @classmethod
    def load(cls, config: RecommenderConfig = RecommenderConfig(), progress: bool = True) -> Stages:
        config = config.resolved()
        dataset = load_dataset(config.dataset, config.data_dir)
        catalog = dataset.catalog
        retriever = DenseRetriever.for_dataset(dataset, config.retriever, progress=progress)
        documents = {doc.item_id: doc for doc in retriever.documents}
        facts = retriever.query_builder.linker.index
        matcher = TitleMatcher(catalog.values(), popularity=mention_counts(dataset.train))
        behaviour = dataset_behaviour(dataset, items_cache(dataset.name))[0] if config.uses_behaviour else None
        priors = TrainingPriors.from_dialogues(dataset.train, list(catalog), facts, cache=items_cache(dataset.name),
                                               behaviour=behaviour)
        by_title: dict[str, list[str]] = {}
        for item in catalog.values():
            by_title.setdefault(normalize_title(item.title), []).append(item.item_id)
        model = tokenizer = reply_model = None
        if config.use_llm:
            from llmkb.generation import int8_copy, load_llm

            model, tokenizer = load_llm(config.llm)
            if config.lora:
                from llmkb.generation.lora import load_lora

                model = load_lora(model, config.lora, merge=True)
            reply_model = model
            if config.reply_lora:
                from llmkb.generation.lora import load_lora

                reply_model = load_lora(copy.deepcopy(model), config.reply_lora, merge=True)
            if config.reply_runtime == "int8":
                reply_model = int8_copy(reply_model)
            elif config.reply_runtime == "onnx-int8":
                from llmkb.generation.onnx import onnx_copy

                reply_model = onnx_copy(reply_model, config.reply_onnx_dir, progress=progress)
        prompts = PromptWriter(tokenizer, catalog, documents, config.prompt_tokens)
        llm = model is not None and config.llm_scoring
        return cls(
            config, dataset, retriever, matcher, priors,
            MessageReader(matcher, retriever.query_builder.linker, CATALOGUE_NAMES.get(dataset.name, dataset.name)),
            CandidateFinder(retriever, priors, catalog, facts, PlotIndex(retriever.documents), config.kb_candidates),
            prompts,
            LLMScorer(model, tokenizer, prompts, config.llm_candidates, config.kb_documents) if llm else None,
            TitleWriter(model, tokenizer, prompts, retriever, config.kb_documents) if llm else None,
            RequestFilter(facts), Explainer(catalog, documents, facts),
            ReplyWriter(reply_model, tokenizer, matcher, GroundingChecker(retriever.query_builder.linker, facts),
                        config.reply_tokens, config.reply_prompt_tokens, config.reply_lookup),
            {i: ids for ids in by_title.values() for i in ids})

    @property
    def catalog(self) -> dict[str, CatalogItem]:
        return self.dataset.catalog

    @property
    def documents(self) -> Mapping[str, KBDocument]:
        return self.prompts.documents

    @property
    def facts(self) -> FactIndex:
        return self.request.facts

    @property
    def uses_llm(self) -> bool:
        """The LLM scores candidates (a fusion signal)."""
        return self.scorer is not None

    @property
    def writes_replies(self) -> bool:
        """The LLM writes the replies (else the template does)."""
        return self.replies.model is not None

    def reply_request(self, state: TurnState, items: Sequence[CatalogItem]) -> ReplyRequest:
        """What the reply to ``state`` recommending ``items`` (the final list) is written from."""
        top = items[:TEMPLATE_ITEMS]
        return ReplyRequest(state.turns, tuple(items), {i.item_id: tuple(self.explainer.reasons(i.item_id, state))
                                                         for i in top}, tuple(str(p) for p in state.stated))

    def mentioned_twins(self, state: TurnState) -> list[str]:
        """The dialogue's movies with every item of the same title ("Heat (1995)" and "Heat (1986)")."""
        return [twin for item in state.mentioned for twin in self.same_title.get(item, [item])]

    def states(self, contexts: Sequence[Sequence[Turn]]) -> list[TurnState]:
        return [self.retriever.query_builder.state(context) for context in contexts]

    def scored_candidates(self, states: Sequence[TurnState], llm: bool = True) -> list[Candidates]:
        """Candidates per state, the top ones scored by the LLM when there is one and ``llm`` is True."""
        found = self.candidates(states)
        if not (llm and self.scorer):
            return found
        return [self.scorer(state, candidates) for state, candidates in zip(states, found)]
