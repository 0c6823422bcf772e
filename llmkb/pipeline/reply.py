"""Write the conversational reply that goes with the final recommendation list, and check it.

The LLM is prompted with the dialogue and the chosen items (as the only candidates, each with the KB facts that say
why it fits) and asked to recommend them. Once it starts one of their titles it writes it exactly as the catalogue
does, year included (``llmkb.generation.generate.ExactTitles``). Only its whole sentences are kept: a trailing
fragment ("… is a") is dropped (``llmkb.postprocess.fluency.trim_fragment``); a reply the LLM ended itself, or that
stops right after a title, ends its last sentence there ("I would recommend Scarface (1983) for a classic movie").
Its reply must then pass two checks, or the template replaces it:
- it names only movies of the list (``llmkb.postprocess.align_reply`` rewrites other titles) and at least one;
- every fact it states about a movie is in that movie's KB document (``llmkb.postprocess.grounding``).
Nothing is appended to it: each card beside the reply gives its movie's reasons. The template names the top items,
each with its first reason, so it passes the same checks.

>>> from llmkb.data.records import SEEKER, CatalogItem, Turn
>>> items = (CatalogItem("1", "Heat", 1995), CatalogItem("2", "Alien", 1979))
>>> request = ReplyRequest((Turn(SEEKER, "A tense thriller?"),), items, {"1": ("crime film",)})
>>> reply = write_reply(model, tokenizer, request, items, max_new_tokens=8)
>>> set(reply.named_ids) <= {"1", "2"}  # it never names a movie outside the list (the template when it names none)
True
>>> *drafts, final = stream_reply(model, tokenizer, request, items, max_new_tokens=8)
>>> final == reply and all(isinstance(draft, str) for draft in drafts)  # drafts as it writes, then the same reply
True
>>> template_reply(items, {"1": ("crime film",)})
'You might enjoy Heat (1995) — crime film; or Alien (1979).'
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from tqdm.auto import tqdm

from llmkb.data.records import CatalogItem, Turn
from llmkb.errors import LLMKBError
from llmkb.generation.generate import (MAX_NEW_TOKENS, clean_generation, generate_texts, reply_done, reply_task,
                                       stream_text)
from llmkb.generation.prompt import Prompt, PromptBudget, build_prompt
from llmkb.postprocess import AlignedReply, TitleMatcher, align_reply
from llmkb.postprocess.fluency import SENTENCE_END, trim_fragment
from llmkb.postprocess.titles import as_matcher
from llmkb.postprocess.grounding import GroundingChecker
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
    draft: str = ""  # what the LLM wrote, before the checks


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
    said = text.rstrip()
    if said and (finished or any(said.endswith(item.display) for item in items)) and not SENTENCE_END.search(said[-3:]):
        said += "."  # people end a chat line without a full stop; a reply that stops on a title ends there too
    whole = trim_fragment(said, items)
    if not whole:
        return templated(request, "it wrote no whole sentence", tokens=tokens, draft=text)
    names = checker.linker.person_spans if checker else (lambda _: ())
    align = lambda said: align_reply(said, items, catalog, names(said))  # noqa: E731
    aligned = align(whole)
    if not aligned.templated and (kept := trim_fragment(aligned.text, items)) != aligned.text:
        if not kept:  # a title taken out left a dangling "… as well as."
            return templated(request, "it wrote no whole sentence", removed=aligned.removed, tokens=tokens, draft=text)
        aligned = align(kept)
    failure = "it names no movie of the list" if aligned.templated else ""
    if not failure and checker is not None:
        grounding = checker(aligned.text, items, as_matcher(catalog))
        outside = [i for i in grounding.named if i not in {item.item_id for item in items}]
        if outside:  # a title the alignment read differently ("Guardians of the Galaxy Vol." for Vol. 2)
            failure = f"it names a movie outside the list: {outside[0]}"
        elif grounding.false_claims:
            failure = f"it states a fact the KB does not hold: {grounding.false_claims[0]}"
    if not failure:
        return Reply(**vars(aligned), tokens=tokens, draft=text)
    return templated(request, failure, removed=aligned.removed, tokens=tokens, draft=text)


def write_reply(model, tokenizer, request: ReplyRequest, catalog: Iterable[CatalogItem] | TitleMatcher,
                checker: GroundingChecker | None = None, max_new_tokens: int = MAX_NEW_TOKENS,
                budget: PromptBudget = PromptBudget()) -> Reply:
    """Generate a greedy reply recommending the request's items, and check it."""
    *_, reply = stream_reply(model, tokenizer, request, catalog, checker, max_new_tokens, budget)
    return reply


def stream_reply(model, tokenizer, request: ReplyRequest, catalog: Iterable[CatalogItem] | TitleMatcher,
                 checker: GroundingChecker | None = None, max_new_tokens: int = MAX_NEW_TOKENS,
                 budget: PromptBudget = PromptBudget()) -> Iterator[str | Reply]:
    """:func:`write_reply` as it is written (greedy): the cleaned draft after each token, then the checked
    :class:`Reply` (which may differ from the last draft: titles outside the list replaced, or the template)."""
    prompt = _prompt(tokenizer, request, budget)
    if isinstance(prompt, Reply):
        yield prompt
        return
    raw = ""
    titles = [item.display for item in request.recommended]
    for raw in stream_text(model, tokenizer, prompt.text, max_new_tokens, stop=reply_done, titles=titles):
        yield clean_generation(raw)
    yield check_reply(clean_generation(raw), request, catalog, checker, *_spent(tokenizer, prompt, raw, max_new_tokens))


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
            titles = [[item.display for item in request.recommended] for request, _ in fitting]
            texts = iter(generate_texts(model, tokenizer, [p.text for _, p in fitting], max_new_tokens,
                                        titles=titles, stop=reply_done) if fitting else [])
            for request, prompt in zip(batch, prompts):
                if isinstance(prompt, Reply):
                    replies.append(prompt)
                    continue
                text = next(texts)
                replies.append(check_reply(clean_generation(text), request, matcher, checker,
                                           *_spent(tokenizer, prompt, text, max_new_tokens)))
            bar.update(len(batch))
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
