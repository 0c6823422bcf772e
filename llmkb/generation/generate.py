"""Text generation: greedy or seeded continuations of a rendered prompt, cleaned of copied speaker labels.

>>> text = clean_generation(generate_text(model, tokenizer, "Recommend a movie:", max_new_tokens=8))
>>> isinstance(text, str)
True
>>> *_, streamed = stream_text(model, tokenizer, "Recommend a movie:", max_new_tokens=8)  # the text so far, per token
>>> streamed == generate_text(model, tokenizer, "Recommend a movie:", max_new_tokens=8)
True
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Sequence

import torch

from llmkb.data.records import CatalogItem
from llmkb.postprocess.fluency import SENTENCE_END

MAX_NEW_TOKENS = 56  # a reply stops earlier, at the end of its second sentence (``reply_done``)
REPLY_SENTENCES = 2
NO_REPEAT_NGRAM = 3  # greedy decoding of a small model loops ("I'm sorry. I'm sorry."): no 3-gram twice
# Intra-op threads of a streamed generation. It runs outside the main thread, where a second OpenMP team made
# greedy decoding slower here, not faster (SmolLM2-135M int8, 40 tokens, Xeon 2 cores: 3.0 s with 2, 2.1 s with 1).
STREAM_THREADS = 1
# Prompt lookup decoding: a streamed reply drafts this many tokens from the prompt (titles, reasons) and checks them
# in one step; greedy output is unchanged. A reply 3.09 → 2.43 s p50 with 5 (3: 2.52, 10: 2.49; trained writer,
# float32, 12 validation openers, AMD EPYC 2 cores; benchmarks/chat_latency.py measures it). Batches cannot use it.
PROMPT_LOOKUP = 5
_SPEAKER_LABEL = re.compile(r"^[ \t]*\**(?:the\s+)?(?:seeker|recommender|assistant|user|system)\**[ \t]*:\**[ \t]*", re.I | re.M)


def clean_generation(text: str) -> str:
    r"""Drop speaker labels ("Recommender:", "The Seeker:") that small models copy from the transcript and lines
    with no word in them (runs of ":"), and keep the first paragraph only (they tend to go on writing more turns).

    >>> clean_generation("Recommender: Try Heat (1995).\n\nSeeker: thanks")
    'Try Heat (1995).'
    >>> clean_generation("Heat (1995):\n:\n:")
    'Heat (1995):'
    """
    paragraphs = _paragraphs(text)
    return paragraphs[0] if paragraphs else ""


def reply_done(text: str) -> bool:
    """A reply is written: its first paragraph is over, or it holds ``REPLY_SENTENCES`` whole sentences.

    >>> reply_done("Try Heat (1995). It is tense!"), reply_done("Try Heat (1995). It is")
    (True, False)
    """
    return first_paragraph_done(text) or sentence_ends(clean_generation(text)) >= REPLY_SENTENCES


def first_paragraph_done(text: str) -> bool:
    r"""A second paragraph has begun, so :func:`clean_generation` of any continuation of ``text`` is already fixed.

    >>> first_paragraph_done("Recommender:\n\nTry Heat."), first_paragraph_done("Try Heat.\n\nSeeker: ok")
    (False, True)
    """
    return len(_paragraphs(text)) > 1


def _paragraphs(text: str) -> list[str]:
    lines = [line for line in _SPEAKER_LABEL.sub("", text).split("\n") if not line.strip() or re.search(r"\w", line)]
    return [p.strip() for p in re.split(r"\n\s*\n", "\n".join(lines)) if p.strip()]


def generate_text(
    model, tokenizer, prompt: str, max_new_tokens: int = MAX_NEW_TOKENS, temperature: float = 0.0, seed: int = 0
) -> str:
    """The model's continuation of a rendered ``prompt``: greedy when ``temperature`` is 0, else sampled with ``seed``
    (without touching the global RNG)."""
    return generate_texts(model, tokenizer, [prompt], max_new_tokens, temperature, seed)[0]


@torch.no_grad()
def generate_texts(
    model, tokenizer, prompts: Sequence[str], max_new_tokens: int = MAX_NEW_TOKENS, temperature: float = 0.0,
    seed: int = 0, titles: Sequence[Sequence[str]] | None = None, stop: Callable[[str], bool] | None = None,
    leads: Sequence[str] | None = None,
) -> list[str]:
    """``generate_text`` for a batch of prompts at once (left-padded; ~2.7x the throughput of one at a time on CPU
    at 8 prompts, with the same greedy outputs). ``titles``: per prompt, the titles it must write exactly
    (:class:`ExactTitles`); ``stop(continuation so far)``: end that row early (as :func:`stream_text`); ``leads``:
    per prompt, how its continuation must begin (returned as part of it, and seen by ``titles`` and ``stop``)."""
    from transformers import StoppingCriteriaList

    leads = list(leads or [""] * len(prompts))
    inputs, starts = _with_leads(tokenizer, prompts, leads)
    inputs = inputs.to(next(model.parameters()).device)
    prompt_length = inputs.input_ids.shape[1]
    processors = [NoRepeatInReply(tokenizer, starts)]
    processors += [ExactTitles(tokenizer, starts, titles)] if titles and any(titles) else []
    options = dict(max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
                   logits_processor=processors)
    if stop is not None:
        options["stopping_criteria"] = StoppingCriteriaList([StopAfter(tokenizer, starts, stop)])
    if temperature > 0:
        options.update(do_sample=True, temperature=temperature, top_p=0.95)
    else:
        options.update(do_sample=False, temperature=None, top_p=None, top_k=None)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        output = model.generate(**inputs, **options)
    return [(lead + tokenizer.decode(row[prompt_length:], skip_special_tokens=True)).strip()
            for lead, row in zip(leads, output)]


def _with_leads(tokenizer, prompts: Sequence[str], leads: Sequence[str]):
    """The batch's inputs, each prompt followed by its lead (left-padded), and where each row's continuation, its
    lead included, starts."""
    encode = lambda text: tokenizer.encode(text, add_special_tokens=False) if text else []  # noqa: E731
    heads, tails = [encode(prompt) for prompt in prompts], [encode(lead) for lead in leads]
    inputs = tokenizer.pad({"input_ids": [head + tail for head, tail in zip(heads, tails)]}, padding=True,
                           padding_side="left", return_tensors="pt")
    return inputs, [inputs.input_ids.shape[1] - len(tail) for tail in tails]


def stream_text(model, tokenizer, prompt: str, max_new_tokens: int = MAX_NEW_TOKENS,
                stop: Callable[[str], bool] | None = None, titles: Sequence[str] = (), lead: str = "",
                lookup: int | None = None, threads: int = STREAM_THREADS) -> Iterator[str]:
    """The greedy continuation of ``prompt`` as it is written: the whole text so far after each new token
    (the last is what :func:`generate_text` returns). The model generates in a thread; stop reading at will.
    ``stop(text so far)``: end the generation early (e.g. :func:`first_paragraph_done`, when the rest is dropped);
    ``titles``: the titles it must write exactly (:class:`ExactTitles`); ``lead``: how the continuation begins;
    ``lookup``: tokens drafted from the prompt per step (prompt lookup decoding; None: one token a step);
    ``threads``: intra-op threads of the generation."""
    from transformers import StoppingCriteriaList, TextIteratorStreamer

    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
    inputs, (start,) = _with_leads(tokenizer, [prompt], [lead])
    inputs = inputs.to(next(model.parameters()).device)
    options = dict(max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id, streamer=streamer,
                   logits_processor=[NoRepeatInReply(tokenizer, start),
                                     *([ExactTitles(tokenizer, start, [titles])] if titles else [])],
                   eos_token_id=tokenizer.eos_token_id, do_sample=False, temperature=None, top_p=None, top_k=None,
                   stopping_criteria=StoppingCriteriaList([StopAfter(tokenizer, start, stop or (lambda _: False))]),
                   **({"prompt_lookup_num_tokens": lookup} if lookup else {}))
    failed: list[BaseException] = []

    def generate() -> None:
        torch.set_num_threads(threads)  # this thread's OpenMP setting; the caller's stays as it is
        try:
            model.generate(**inputs, **options)
        except BaseException as error:  # raised again in the reader's thread, which would otherwise wait forever
            failed.append(error)
            streamer.end()

    worker = threading.Thread(target=generate, daemon=True)
    worker.start()
    text = lead
    for piece in streamer:
        text += piece
        if text.strip():
            yield text.strip()
    worker.join()
    if failed:
        raise failed[0]
    if not text.strip():
        yield ""


def sentence_ends(text: str) -> int:
    """How many sentences ``text`` has ended ("Mr." in a title counts too: the reply's checks trim the rest).

    >>> sentence_ends("Try Heat (1995). It is tense! And"), sentence_ends("Try Heat")
    (2, 0)
    """
    return len(SENTENCE_END.findall(text))


def _continuations(input_ids: torch.LongTensor, start: int | Sequence[int]) -> list[list[int]]:
    """Each row's ids from where its continuation starts (``start``: one index for all rows, or one per row)."""
    starts = [start] * len(input_ids) if isinstance(start, int) else start
    return [row[at:] for row, at in zip(input_ids.tolist(), starts)]


class StopAfter:
    """A stopping criterion: each row of the batch stops once ``done(its continuation so far)``; ``start``: where
    the continuations start (one index, or one per row)."""

    def __init__(self, tokenizer, start: int | Sequence[int], done: Callable[[str], bool]):
        self.tokenizer, self.start, self.done = tokenizer, start, done

    def __call__(self, input_ids: torch.LongTensor, scores, **kwargs) -> torch.BoolTensor:
        texts = self.tokenizer.batch_decode(_continuations(input_ids, self.start), skip_special_tokens=True)
        return torch.tensor([self.done(text) for text in texts], dtype=torch.bool)


class NoRepeatInReply:
    """A logits processor: the reply never writes the same n-gram of words twice (n = ``NO_REPEAT_NGRAM``). Unlike
    ``no_repeat_ngram_size`` it leaves the prompt out, so titles are copied from the prompt intact, and tokens
    without a letter may repeat, so years are written whole."""

    def __init__(self, tokenizer, start: int | Sequence[int], n: int = NO_REPEAT_NGRAM):
        self.start, self.n, self.free = start, n, _wordless_tokens(tokenizer)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        for row, ids in enumerate(_continuations(input_ids, self.start)):
            if len(ids) >= self.n:
                head = tuple(ids[len(ids) - self.n + 1 :])
                banned = {ids[i + self.n - 1] for i in range(len(ids) - self.n + 1)
                          if tuple(ids[i : i + self.n - 1]) == head} - self.free
                scores[row, list(banned)] = -float("inf")
        return scores


class ExactTitles:
    """A logits processor: once a reply has written the first ``LEAD`` tokens of one of its titles ("Pocahontas (",
    "The Sh"), it must go on writing that title exactly as given, year included, and for ``AFTER`` tokens after a
    whole title it opens no bracket (no second year: "Shazam! (2019)! (2019)"). ``titles``: per row of the batch,
    the titles as the catalogue writes them.

    >>> class Tokens:  # a tokenizer of single characters, enough to show the rule
    ...     def encode(self, text, add_special_tokens=False): return [ord(c) for c in text]
    ...     def convert_ids_to_tokens(self, ids): return [chr(i) for i in ids]
    ...     def __len__(self): return 128
    >>> exact = ExactTitles(Tokens(), 0, [["Up (2009)"]])
    >>> scores = exact(torch.tensor([[ord(c) for c in "see Up"]]), torch.zeros(1, 128))
    >>> [chr(i) for i in torch.nonzero(scores[0] > -float("inf")).flatten().tolist()]  # only the title goes on
    [' ']
    """

    LEAD, AFTER = 2, 3

    def __init__(self, tokenizer, start: int | Sequence[int], titles: Sequence[Sequence[str]]):
        encode = lambda text: tuple(tokenizer.encode(text, add_special_tokens=False))  # noqa: E731
        self.start = start
        self.titles = [[ids for title in row for ids in {encode(title), encode(f" {title}")} if len(ids) > self.LEAD]
                       for row in titles]
        self.brackets = list(_tokens_where(tokenizer, "bracket", lambda token: token.lstrip(" Ġ▁").startswith("(")))

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        for row, ids in enumerate(_continuations(input_ids, self.start)):
            allowed, finished = set(), False
            for title in self.titles[row] if row < len(self.titles) else ():
                finished |= any(tuple(ids[len(ids) - len(title) - j : len(ids) - j]) == title
                                for j in range(self.AFTER) if len(ids) >= len(title) + j)
                for k in range(min(len(title) - 1, len(ids)), self.LEAD - 1, -1):
                    if tuple(ids[-k:]) == title[:k]:
                        allowed.add(title[k])
                        break
            if allowed:
                keep = list(allowed)
                kept = scores[row, keep]
                scores[row] = -float("inf")
                scores[row, keep] = torch.where(torch.isfinite(kept), kept, torch.zeros_like(kept))
            elif finished:
                scores[row, self.brackets] = -float("inf")
        return scores


_TOKEN_SETS: dict[tuple[int, str], frozenset[int]] = {}


def _tokens_where(tokenizer, name: str, test: Callable[[str], bool]) -> frozenset[int]:
    """The ids of the vocabulary's tokens that pass ``test``, computed once per tokenizer and ``name``."""
    key = (id(tokenizer), name)
    if key not in _TOKEN_SETS:
        vocabulary = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
        _TOKEN_SETS[key] = frozenset(i for i, token in enumerate(vocabulary) if test(str(token)))
    return _TOKEN_SETS[key]


def _wordless_tokens(tokenizer) -> frozenset[int]:
    """Tokens without a letter (digits, brackets, spaces): a reply may repeat them ("(2017) and ... (2018)")."""
    return _tokens_where(tokenizer, "wordless", lambda token: not re.search(r"[A-Za-z]", token))


def reply_task(items: Sequence[CatalogItem]) -> str:
    names = ", ".join(item.display for item in items)
    return f"Reply to the seeker in one or two short, friendly sentences that recommend {names}. Name no other movie."
