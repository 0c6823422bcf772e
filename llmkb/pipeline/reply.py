"""Write the conversational reply that goes with the final recommendation list.

The LLM is prompted with the dialogue and the chosen items (as the only candidates, with their KB documents) and
asked to recommend them; ``llmkb.postprocess.align_reply`` then makes the reply agree with the list, so it never
names a movie outside it, and falls back to a template when the LLM names none.

>>> from llmkb.data.records import SEEKER, CatalogItem, Turn
>>> items = [CatalogItem("1", "Heat", 1995), CatalogItem("2", "Alien", 1979)]
>>> reply = write_reply(model, tokenizer, [Turn(SEEKER, "A tense thriller?")], items, items, max_new_tokens=8)
>>> set(reply.named_ids) <= {"1", "2"}  # it never names a movie outside the list (the template when it names none)
True
>>> *drafts, final = stream_reply(model, tokenizer, [Turn(SEEKER, "A tense thriller?")], items, items, max_new_tokens=8)
>>> final == reply and all(isinstance(draft, str) for draft in drafts)  # drafts as it writes, then the same reply
True
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from llmkb.data.records import CatalogItem, Turn
from llmkb.generation.generate import MAX_NEW_TOKENS, clean_generation, first_paragraph_done, reply_task, stream_text
from llmkb.generation.prompt import Prompt, PromptBudget, build_prompt
from llmkb.postprocess import AlignedReply, TitleMatcher, align_reply


@dataclass(frozen=True)
class Reply(AlignedReply):
    tokens: int = 0  # tokens the LLM processed: its prompt and what it generated


def write_reply(
    model,
    tokenizer,
    dialogue: Sequence[Turn],
    items: Sequence[CatalogItem],
    catalog: Iterable[CatalogItem] | TitleMatcher,
    documents: Mapping[str, str] | None = None,
    preferences: str | Sequence[str] = (),
    max_new_tokens: int = MAX_NEW_TOKENS,
    budget: PromptBudget = PromptBudget(),
) -> Reply:
    """Generate a greedy reply recommending ``items`` (the final list, best first) and align it with them.

    ``documents``: optional item id → compact KB document, shown to the model as evidence.
    """
    *_, reply = stream_reply(model, tokenizer, dialogue, items, catalog, documents, preferences, max_new_tokens,
                             budget)
    return reply


def stream_reply(model, tokenizer, dialogue: Sequence[Turn], items: Sequence[CatalogItem],
                 catalog: Iterable[CatalogItem] | TitleMatcher, documents: Mapping[str, str] | None = None,
                 preferences: str | Sequence[str] = (), max_new_tokens: int = MAX_NEW_TOKENS,
                 budget: PromptBudget = PromptBudget()) -> Iterator[str | Reply]:
    """:func:`write_reply` as it is written (greedy): the cleaned draft after each token, then the aligned
    :class:`Reply` (which may differ from the last draft: titles outside the list replaced, or the template)."""
    docs = [(item.display, (documents or {}).get(item.item_id, "")) for item in items]
    prompt: Prompt = build_prompt(tokenizer, dialogue, docs, preferences, task=reply_task(items), budget=budget)
    raw = ""
    for raw in stream_text(model, tokenizer, prompt.text, max_new_tokens, stop=first_paragraph_done):
        yield clean_generation(raw)
    generated = min(len(tokenizer.encode(raw, add_special_tokens=False)), max_new_tokens)  # re-encoded: ±1 token
    yield Reply(**vars(align_reply(clean_generation(raw), items, catalog)), tokens=prompt.n_tokens + generated)
