"""Prompt fusion: system instruction + retrieved KB documents + dialogue + preferences + task, in the model's
chat template, within a token budget.

The KB documents get at most ``kb_share`` of the budget (each cut to ``max_doc_tokens``; the lowest-ranked are
dropped first); the dialogue gets the rest and loses its oldest turns first. Same inputs → same prompt.

>>> prompt = build_prompt(tokenizer, dialogue=[Turn(SEEKER, "Any scary movie like Alien?")],
...                       documents=[("Aliens (1986)", "Director: James Cameron. Genre: action, horror.")],
...                       preferences=["horror", "Sigourney Weaver"])
>>> "The seeker likes: horror; Sigourney Weaver" in prompt.text  # prompt.messages rendered with the chat template
True
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from llmkb.data.records import RECOMMENDER, SEEKER, Turn
from llmkb.errors import LLMKBError

SYSTEM_INSTRUCTION = (
    "You are a movie recommender. Recommend only movies from the candidate list given below, which come from "
    "our catalogue; never recommend a movie that is not listed, whatever the conversation asks. Write titles "
    "exactly as listed, as Title (Year)."
)
RANK_TASK = "Answer with the title of the one candidate movie the seeker will like most, and nothing else."
REPLY_TASK = "Reply to the seeker in one or two short, friendly sentences that recommend movies from the candidates."
SPEAKERS = {SEEKER: "Seeker", RECOMMENDER: "Recommender"}


@dataclass(frozen=True)
class PromptBudget:
    """Token limits; ``max_tokens`` covers the whole rendered prompt."""

    max_tokens: int = 1024
    kb_share: float = 0.5  # at most this share of what is left after the fixed parts goes to KB documents
    max_doc_tokens: int = 80  # each document is cut to this many tokens


@dataclass(frozen=True)
class Prompt:
    messages: tuple[dict, ...]  # chat messages, before the template
    text: str  # rendered with the chat template and the generation prompt
    n_tokens: int
    documents: tuple[str, ...]  # titles of the KB documents kept, in rank order
    n_turns: int  # dialogue turns kept (the most recent ones)


def build_prompt(
    tokenizer,
    dialogue: Sequence[Turn],
    documents: Sequence[tuple[str, str]] = (),
    preferences: str | Sequence[str] = (),
    task: str = RANK_TASK,
    budget: PromptBudget = PromptBudget(),
    system: str = SYSTEM_INSTRUCTION,
) -> Prompt:
    """Fuse the parts into one chat prompt of at most ``budget.max_tokens`` tokens.

    ``documents``: ``(display title, compact doc text)`` in rank order. Raises ``LLMKBError`` when the fixed
    parts (instruction, preferences, task) alone do not fit.
    """
    count = lambda text: len(tokenizer.encode(text, add_special_tokens=False))  # noqa: E731
    prefs = _preferences_line(preferences)
    fixed = count(_render(tokenizer, _messages(system, [], [], prefs, task)))
    free = budget.max_tokens - fixed
    if free < 0:
        raise LLMKBError(
            f"the instruction, preferences and task alone take {fixed} tokens, over the budget of "
            f"{budget.max_tokens}; raise PromptBudget.max_tokens or shorten the task/preferences"
        )
    doc_lines = _fit(
        [_doc_line(tokenizer, title, text, budget.max_doc_tokens) for title, text in documents],
        int(free * budget.kb_share),
        count,
    )
    turn_lines = [f"{SPEAKERS.get(t.role, t.role.title())}: {_clean(t.text)}" for t in reversed(dialogue)]
    turn_lines = _fit(turn_lines, free - sum(count(line) + 1 for line in doc_lines), count)[::-1]
    while True:  # separate counts can under-count the joined text by a token or two: trim until it fits
        messages = _messages(system, doc_lines, turn_lines, prefs, task)
        text = _render(tokenizer, messages)
        n_tokens = count(text)
        if n_tokens <= budget.max_tokens or not (turn_lines or doc_lines):
            break
        turn_lines, doc_lines = (turn_lines[1:], doc_lines) if turn_lines else (turn_lines, doc_lines[:-1])
    titles = tuple(title for title, _ in documents[: len(doc_lines)])
    return Prompt(tuple(messages), text, n_tokens, titles, len(turn_lines))


def render_chat(tokenizer, messages: Sequence[dict], add_generation_prompt: bool = True) -> str:
    """Apply the tokenizer's chat template; models whose template rejects a system role get it merged into
    the first user message."""
    try:
        return tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=add_generation_prompt)
    except Exception as error:  # jinja TemplateError ("System role not supported") or no template at all
        if messages and messages[0]["role"] == "system" and len(messages) > 1:
            merged = {"role": "user", "content": messages[0]["content"] + "\n\n" + messages[1]["content"]}
            return render_chat(tokenizer, [merged, *messages[2:]], add_generation_prompt)
        raise LLMKBError(
            f"the tokenizer cannot render chat messages ({error}); use an instruction-tuned model with a chat template"
        ) from error


def _render(tokenizer, messages: list[dict]) -> str:
    return render_chat(tokenizer, messages, add_generation_prompt=True)


def _messages(system: str, doc_lines: list[str], turn_lines: list[str], prefs: str, task: str) -> list[dict]:
    system_text = system + ("\n\nCandidate movies:\n" + "\n".join(doc_lines) if doc_lines else "")
    parts = ["Conversation:\n" + "\n".join(turn_lines)] if turn_lines else []
    parts += [f"The seeker likes: {prefs}"] if prefs else []
    parts.append(task)
    return [{"role": "system", "content": system_text}, {"role": "user", "content": "\n\n".join(parts)}]


def _fit(lines: list[str], limit: int, count) -> list[str]:
    """The longest prefix of ``lines`` whose token count (plus one per newline) stays within ``limit``."""
    kept, used = [], 0
    for line in lines:
        used += count(line) + 1
        if used > limit:
            break
        kept.append(line)
    return kept


def _doc_line(tokenizer, title: str, text: str, max_tokens: int) -> str:
    return f"- {title}: {_head(tokenizer, text, max_tokens)}" if text.strip() else f"- {title}"


def _head(tokenizer, text: str, max_tokens: int) -> str:
    """``text`` cut at a word boundary to at most ``max_tokens`` tokens ("..." marks a cut)."""
    text = _clean(text)
    if len(tokenizer.encode(text, add_special_tokens=False)) <= max_tokens:
        return text
    words = text.split(" ")
    low, high = 0, len(words)  # binary search: the most words that fit with the "..." marker
    while low < high:
        mid = (low + high + 1) // 2
        if len(tokenizer.encode(" ".join(words[:mid]) + " ...", add_special_tokens=False)) <= max_tokens:
            low = mid
        else:
            high = mid - 1
    return " ".join(words[:low]) + " ..."


def _preferences_line(preferences: str | Sequence[str]) -> str:
    return _clean(preferences) if isinstance(preferences, str) else "; ".join(_clean(p) for p in preferences if p.strip())


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
