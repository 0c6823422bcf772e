"""Write the conversational reply that goes with the final recommendation list, and check it.

The LLM is prompted with the dialogue and the chosen items (as the only candidates, each with the KB facts that say
why it fits) and asked to recommend them. Once it starts one of their titles it writes it exactly as the catalogue
does, year included (``llmkb.generation.generate.ExactTitles``). Titles it runs together get their commas ("Heat
(1995), Up (2009) and Alien (1979)"). Only its whole sentences are kept: a trailing fragment ("… is a") is dropped
(``llmkb.postprocess.fluency.trim_fragment``); a reply the LLM ended itself, or that stops right after a title, ends
its last sentence there ("I would recommend Scarface (1983) for a classic movie").
Its reply must then pass three checks:
- it names only movies of the list (``llmkb.postprocess.align_reply`` rewrites other titles) and at least one;
- no sentence is only titles ("Heat (1995), Alien (1979).") and it passes the other fluency checks
  (``llmkb.postprocess.fluency``: no stray year as in "It (2017) is (2017)", no movie named twice);
- every fact it states about a movie is in that movie's KB document (``llmkb.postprocess.grounding``).
A reply that fails them loses the people and genres the KB does not give its movies, where the sentence still reads
("a great horror movie with Al Pacino and Tom Cruise" keeps "a great movie with Al Pacino"), then keeps its largest
set of sentences that passes ("Heat (1995) is a crime classic. It's a comedy." loses its second sentence); with none,
the LLM writes once more, its reply now opening with the top movie's title and "is", and that reply is checked the
same way. When both fail, the template answers. Nothing is appended to a reply: each card beside it gives its
movie's reasons. The template names the top items, each with its first reason, so it passes the same checks.

>>> from llmkb.data.records import SEEKER, CatalogItem, Turn
>>> items = (CatalogItem("1", "Heat", 1995), CatalogItem("2", "Alien", 1979))
>>> request = ReplyRequest((Turn(SEEKER, "A tense thriller?"),), items, {"1": ("crime film",)})
>>> reply = write_reply(model, tokenizer, request, items, max_new_tokens=8)
>>> set(reply.named_ids) <= {"1", "2"}  # it never names a movie outside the list (the template when it names none)
True
>>> *drafts, final = stream_reply(model, tokenizer, request, items, max_new_tokens=8)
>>> final == reply and all(isinstance(draft, str) for draft in drafts)  # drafts as it writes, then the same reply
True
>>> check_reply("Heat (1995) is tense. It stars Tom Cruise.", request, items).dropped  # no checker: all hold
()
>>> template_reply(items, {"1": ("crime film",)})
'You might enjoy Heat (1995) — crime film; or Alien (1979).'
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

from tqdm.auto import tqdm

from llmkb.data.records import CatalogItem, Turn
from llmkb.errors import LLMKBError
from llmkb.generation.generate import (MAX_NEW_TOKENS, clean_generation, generate_texts, reply_done, reply_task,
                                       stream_text)
from llmkb.generation.prompt import Prompt, PromptBudget, build_prompt
from llmkb.postprocess import AlignedReply, TitleMatcher, align_reply
from llmkb.postprocess.fluency import SENTENCE_END, fluency_problems, join_titles, mend_slips, trim_fragment
from llmkb.postprocess.titles import as_matcher
from llmkb.postprocess.grounding import GroundingChecker, sentence_spans
from llmkb.postprocess.reply import TEMPLATE_ITEMS, template_reply

BATCH = 8  # prompts generated together by write_replies (~2x the throughput of one at a time on 2 cores)


@dataclass(frozen=True)
class ReplyRequest:
    """What a reply is written from: the dialogue, the final list (best first) and what is known about its items."""

    dialogue: tuple[Turn, ...]
    items: tuple[CatalogItem, ...]
    reasons: Mapping[str, Sequence[str]] = field(default_factory=dict)  # id → why it fits: its KB facts
    preferences: tuple[str, ...] = ()  # what the seeker likes, as read from the dialogue

    @property
    def recommended(self) -> tuple[CatalogItem, ...]:
        """The items the reply may name: the top of the list."""
        return self.items[:TEMPLATE_ITEMS]


@dataclass(frozen=True)
class Reply(AlignedReply):
    tokens: int = 0  # tokens the LLM processed: its prompt and what it generated
    fallback: str = ""  # why the template replaced the LLM's reply ("" when it did not, or there is no LLM)
    draft: str = ""  # what the LLM wrote, before the checks (on its second attempt, when there was one)
    dropped: tuple[str, ...] = ()  # the draft's sentences, names and genres left out: they failed a check
    retried: bool = False  # the first attempt failed the checks; this is the second's outcome


def templated(request: ReplyRequest, fallback: str = "", **details) -> Reply:
    """The template reply to ``request``: its top items, each with its first reason; ``fallback``: why it replaced
    the LLM's reply ("" without an LLM); ``details``: more ``Reply`` fields (``removed``, ``tokens``, ``draft``)."""
    items = request.recommended
    return Reply(template_reply(items, request.reasons), tuple(i.item_id for i in items), templated=True,
                 fallback=fallback, **{"removed": (), **details})


def reply_prompt(tokenizer, request: ReplyRequest, budget: PromptBudget = PromptBudget()) -> Prompt:
    """The reply prompt: the recommended items as the candidates, each with its reasons (KB facts)."""
    docs = [(item.display, "; ".join(request.reasons.get(item.item_id, ()))) for item in request.recommended]
    task = reply_task(request.recommended)
    try:
        return build_prompt(tokenizer, request.dialogue, docs, request.preferences, task=task, budget=budget)
    except LLMKBError:  # many preferences: the reasons say which ones each item holds
        return build_prompt(tokenizer, request.dialogue, docs, (), task=task, budget=budget)


def check_reply(text: str, request: ReplyRequest, catalog: Iterable[CatalogItem] | TitleMatcher,
                checker: GroundingChecker | None = None, tokens: int = 0, finished: bool = False) -> Reply:
    """The LLM's ``text`` aligned with the list, or the template when it fails a check (see module docstring).
    ``finished``: the LLM ended the text itself (not cut by the token budget), so its last sentence is whole."""
    items = list(request.recommended)
    said = mend_slips(text).rstrip()
    if said and (finished or any(said.endswith(item.display) for item in items)) and not SENTENCE_END.search(said[-3:]):
        said += "."  # people end a chat line without a full stop; a reply that stops on a title ends there too
    whole = trim_fragment(said, items)
    if not whole:
        return templated(request, "it wrote no whole sentence", tokens=tokens, draft=text)
    names = checker.linker.person_spans if checker else (lambda _: ())
    def align(said: str) -> AlignedReply:  # titles as the list writes them, and run-together ones as a list
        aligned = align_reply(said, items, catalog, names(said))
        return replace(aligned, text=join_titles(aligned.text, items))
    aligned = align(whole)
    if not aligned.templated and (kept := trim_fragment(aligned.text, items)) != aligned.text:
        if not kept:  # a title taken out left a dangling "… as well as."
            return templated(request, "it wrote no whole sentence", removed=aligned.removed, tokens=tokens, draft=text)
        aligned = align(kept)
    failure = _failure(aligned, items, catalog, checker)
    if not failure:
        return Reply(**vars(aligned), tokens=tokens, draft=text)
    if not aligned.templated and checker is not None:
        fewer, struck = checker.strike_false_claims(aligned.text, items, as_matcher(catalog))
        if struck and trim_fragment(fewer, items) == fewer:  # its sentences are tried next when it does not pass
            aligned = align(fewer)
            if not (failure := _failure(aligned, items, catalog, checker)):
                return Reply(**vars(aligned), tokens=tokens, draft=text, dropped=struck)
        else:
            struck = ()
        spans = sentence_spans(aligned.text, [(m.start, m.end) for m in checker.movies(aligned.text, items)])
        sentences = [aligned.text[a:b].strip() for a, b in spans if aligned.text[a:b].strip()]
        for kept in _subsets(len(sentences)):
            part = align(" ".join(sentences[k] for k in kept))
            if trim_fragment(part.text, items) == part.text and not _failure(part, items, catalog, checker):
                dropped = struck + tuple(sentence for k, sentence in enumerate(sentences) if k not in kept)
                return Reply(**vars(part), tokens=tokens, draft=text, dropped=dropped)
    return templated(request, failure, removed=aligned.removed, tokens=tokens, draft=text)


def _failure(aligned: AlignedReply, items: Sequence[CatalogItem], catalog: Iterable[CatalogItem] | TitleMatcher,
             checker: GroundingChecker | None) -> str:
    """Why ``aligned`` fails the checks, or ""."""
    if aligned.templated:
        return "it names no movie of the list"
    if problems := fluency_problems(aligned.text, items):  # "It (2017) is (2017)": a year left by the alignment
        return "it lists titles without a sentence" if "titles_only" in problems else \
            f"it does not read as written: {problems[0]}"
    if checker is None:
        return ""
    grounding = checker(aligned.text, items, as_matcher(catalog))
    outside = [i for i in grounding.named if i not in {item.item_id for item in items}]
    if outside:  # a title the alignment read differently ("Guardians of the Galaxy Vol." for Vol. 2)
        return f"it names a movie outside the list: {outside[0]}"
    if grounding.false_claims:
        return f"it states a fact the KB does not hold: {grounding.false_claims[0]}"
    return ""


def _subsets(n: int, most: int = 4) -> Iterator[tuple[int, ...]]:
    """Which of ``n`` sentences to keep, the most first (then the earliest), leaving out at least one; none for a
    reply of more than ``most`` sentences.

    >>> list(_subsets(3))
    [(0, 1), (0, 2), (1, 2), (0,), (1,), (2,)]
    """
    for size in range(n - 1, 0, -1) if n <= most else ():
        yield from itertools.combinations(range(n), size)


def retry_lead(request: ReplyRequest) -> str:
    """How the second attempt at a reply begins: with the top movie's title and "is", so that it says something of
    the movie ("Heat (1995) is …"); a title alone led into bare lists of titles (5 of the 17 fallbacks at 7064909)."""
    return f"{request.recommended[0].display} is"


def write_reply(model, tokenizer, request: ReplyRequest, catalog: Iterable[CatalogItem] | TitleMatcher,
                checker: GroundingChecker | None = None, max_new_tokens: int = MAX_NEW_TOKENS,
                budget: PromptBudget = PromptBudget()) -> Reply:
    """Generate a greedy reply recommending the request's items, and check it."""
    *_, reply = stream_reply(model, tokenizer, request, catalog, checker, max_new_tokens, budget)
    return reply


def stream_reply(model, tokenizer, request: ReplyRequest, catalog: Iterable[CatalogItem] | TitleMatcher,
                 checker: GroundingChecker | None = None, max_new_tokens: int = MAX_NEW_TOKENS,
                 budget: PromptBudget = PromptBudget(), lookup: int = 0) -> Iterator[str | Reply]:
    """:func:`write_reply` as it is written (greedy): the cleaned draft after each token, then the checked
    :class:`Reply` (which may differ from the last draft: titles outside the list replaced, or the template).
    ``lookup``: tokens drafted from the prompt a step (:func:`llmkb.generation.generate.stream_text`); the same
    reply."""
    prompt = _prompt(tokenizer, request, budget)
    if isinstance(prompt, Reply):
        yield prompt
        return
    titles = [item.display for item in request.recommended]
    reply, tokens, shown = None, 0, None
    for lead in ("", retry_lead(request)):
        raw = lead
        for raw in stream_text(model, tokenizer, prompt.text, max_new_tokens, reply_done, titles, lead,
                               lookup or None):
            if (draft := clean_generation(raw)) != shown:  # a token that changes nothing shown is not a new draft
                yield (shown := draft)
        spent, finished = _spent(tokenizer, prompt, raw, max_new_tokens)
        tokens += spent
        reply = check_reply(clean_generation(raw), request, catalog, checker, tokens, finished)
        if not reply.templated:
            break
    yield replace(reply, retried=bool(lead))


def write_replies(model, tokenizer, requests: Sequence[ReplyRequest], catalog: Iterable[CatalogItem] | TitleMatcher,
                  checker: GroundingChecker | None = None, max_new_tokens: int = MAX_NEW_TOKENS,
                  budget: PromptBudget = PromptBudget(), progress: bool = False) -> list[Reply]:
    """:func:`write_reply` for many requests, generated :data:`BATCH` at a time (for evaluation)."""
    matcher, replies = as_matcher(catalog), []
    with tqdm(total=len(requests), desc="replies", unit="reply", disable=not progress) as bar:
        for start in range(0, len(requests), BATCH):
            batch = requests[start : start + BATCH]
            prompts = [_prompt(tokenizer, request, budget) for request in batch]
            fitting = [(request, p) for request, p in zip(batch, prompts) if isinstance(p, Prompt)]
            written = _attempt(model, tokenizer, fitting, matcher, checker, max_new_tokens)
            again = [k for k, reply in enumerate(written) if reply.templated]
            second = _attempt(model, tokenizer, [fitting[k] for k in again], matcher, checker, max_new_tokens,
                              lead=True, spent=[written[k].tokens for k in again])
            for k, reply in zip(again, second):
                written[k] = replace(reply, retried=True)
            answers = iter(written)
            replies += [prompt if isinstance(prompt, Reply) else next(answers) for prompt in prompts]
            bar.update(len(batch))
    return replies


def _attempt(model, tokenizer, fitting: Sequence[tuple[ReplyRequest, Prompt]], matcher: TitleMatcher,
             checker: GroundingChecker | None, max_new_tokens: int, lead: bool = False,
             spent: Sequence[int] = ()) -> list[Reply]:
    """One attempt at a reply to each (request, prompt), generated together and checked; ``lead``: opening with
    :func:`retry_lead`; ``spent``: tokens the earlier attempts took, per request."""
    if not fitting:
        return []
    titles = [[item.display for item in request.recommended] for request, _ in fitting]
    leads = [retry_lead(request) if lead else "" for request, _ in fitting]
    texts = generate_texts(model, tokenizer, [p.text for _, p in fitting], max_new_tokens, titles=titles,
                           stop=reply_done, leads=leads)
    replies = []
    for (request, prompt), text, before in zip(fitting, texts, [*spent] or [0] * len(fitting)):
        tokens, finished = _spent(tokenizer, prompt, text, max_new_tokens)
        replies.append(check_reply(clean_generation(text), request, matcher, checker, before + tokens, finished))
    return replies


def _prompt(tokenizer, request: ReplyRequest, budget: PromptBudget) -> Prompt | Reply:
    """The reply prompt, or, when the budget cannot hold even the instruction, the template saying so."""
    try:
        return reply_prompt(tokenizer, request, budget)
    except LLMKBError as error:
        return templated(request, f"the reply prompt does not fit: {error}")


def _spent(tokenizer, prompt: Prompt, generated: str, max_new_tokens: int) -> tuple[int, bool]:
    """The tokens the LLM processed (±1), and whether it ended the text before the budget did."""
    written = len(tokenizer.encode(generated, add_special_tokens=False))
    return prompt.n_tokens + min(written, max_new_tokens), written < max_new_tokens - 1
