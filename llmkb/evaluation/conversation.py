"""The conversation task (as CRSLab, KGSF and UniCRS evaluate it): the reply to each test recommender turn.

For every std sample the reply writer recommends the top of the system's ranked list (mentioned movies left out, as
chat shows it), and the reply is compared with the human one (titles substituted for ``@ids``):

- **BLEU-k**: the k-gram precision alone, clipped, times the brevity penalty, with no smoothing, per reply on
  whitespace tokens, then averaged (nltk ``sentence_bleu`` with one-hot weights, as UniCRS and CRSLab compute it);
- **Dist-k**: distinct k-grams over all replies divided by the number of replies (the anchors' definition, which is
  why their values exceed 1; the other common one divides by the number of k-grams);
- **perplexity**: of the human reply under the writing LLM, given the reply prompt with the movies the human
  recommended (teacher forcing, as the anchors score the gold response), exp of the mean token loss;
- **item ratio**: the share of replies that recommend a catalogue movie (UniCRS's ``item_ratio`` is movies per
  reply: reported too, as ``movies_per_reply``);
- **consistency**: the share of replies naming only movies of the list; **grounding**: the share whose every stated
  fact holds in the KB (``llmkb.postprocess.grounding``); both on the replies the LLM wrote (not templated), and
  the share templated, with why; **repaired**: the share shown with a failing sentence left out, and **retried**:
  written a second time after the first attempt failed the checks (``llmkb.pipeline.reply``);
- **fluency** (issue 34, ``llmkb.postprocess.fluency``): the share of replies cut off, with a title or year not as
  the list writes it, naming a movie twice, or with a reason bolted on after the text; ``fluent``: with none.

>>> bleu("try heat tonight".split(), "you should try heat tonight".split(), 2)  # p2 = 2/2, brevity exp(1 - 5/3)
0.513...
>>> distinct([["a", "b", "a", "b"], ["a", "b"]], 2)   # {ab, ba} over 2 replies
1.0
"""

from __future__ import annotations

import math
import random
import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from llmkb.data.io import atomic_write_json, atomic_write_jsonl, read_jsonl
from llmkb.data.records import Sample
from llmkb.evaluation.harness import command_line
from llmkb.paths import artifacts_dir
from llmkb.pipeline.reply import Reply, ReplyRequest, reply_prompt
from llmkb.pipeline.stages import Stages
from llmkb.postprocess.fluency import PROBLEMS, fluency_problems
from llmkb.postprocess.titles import canonical_titles

BOOTSTRAP = 1000


def bleu(hypothesis: Sequence[str], reference: Sequence[str], k: int) -> float:
    """BLEU-k of one hypothesis against one reference: clipped k-gram precision × brevity penalty."""
    if not hypothesis:
        return 0.0
    grams, wanted = Counter(_ngrams(hypothesis, k)), Counter(_ngrams(reference, k))
    precision = sum(min(n, wanted[g]) for g, n in grams.items()) / max(1, sum(grams.values()))
    brevity = 1.0 if len(hypothesis) > len(reference) else math.exp(1 - len(reference) / len(hypothesis))
    return precision * brevity


def distinct(replies: Sequence[Sequence[str]], k: int) -> float:
    """Distinct k-grams over all ``replies`` (token lists) per reply."""
    return len({g for tokens in replies for g in _ngrams(tokens, k)}) / max(1, len(replies))


def _ngrams(tokens: Sequence[str], k: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i : i + k]) for i in range(len(tokens) - k + 1)]


def mean_interval(values: Sequence[float], seed: int = 0) -> list[float]:
    """The mean and its 95% percentile bootstrap interval: ``[mean, low, high]``."""
    if not values:
        return [float("nan")] * 3
    rng, n = random.Random(seed), len(values)
    means = sorted(sum(values[rng.randrange(n)] for _ in range(n)) / n for _ in range(BOOTSTRAP))
    return [sum(values) / n, means[int(0.025 * BOOTSTRAP)], means[int(0.975 * BOOTSTRAP) - 1]]


@dataclass(frozen=True)
class ConversationRun:
    dataset: str
    system: str  # template, llm or llm-trained
    ranking: str  # the ranking system whose predictions give the lists
    split: str = "test"
    limit: int | None = None
    samples: int | None = None  # a seeded subset of this many samples (in split order); None: every sample
    perplexity_samples: int = 200  # a seeded subset: a forward pass per reply costs ~0.6 s here


def conversation_report(dataset: str, split: str, system: str, runtime: str | None = None,
                        samples: int | None = None, writer: Path | None = None) -> Path:
    """Where ``llmkb evaluate-conversation`` writes its report (the replies beside it, ``.replies.jsonl``).
    ``runtime``: a reply runtime other than the system's default (``--reply-runtime``); ``writer``: a reply writer
    other than the served one (``--reply-lora``). Both are named in the file so that runs of several do not
    overwrite each other.

    >>> conversation_report("redial", "test", "llm-trained", "float32", samples=300).name
    'redial-test-conversation-llm-trained-float32-300-samples.report.json'
    >>> writer = artifacts_dir() / "reply-writer" / "abc-120-steps" / "snapshots" / "step-90"
    >>> conversation_report("redial", "valid", "llm-trained", samples=100, writer=writer).name
    'redial-valid-conversation-llm-trained-100-samples-reply-writer-abc-120-steps-snapshots-step-90.report.json'
    """
    stem = f"{dataset}-{split}-conversation-{system}" + (f"-{runtime}" if runtime else "") + (f"-{samples}-samples" if samples else "")
    if writer:
        writer, root = Path(writer).resolve(), artifacts_dir().resolve()
        stem += "-" + re.sub(r"[^A-Za-z0-9.]+", "-", str(writer.relative_to(root) if writer.is_relative_to(root)
                                                         else writer.name)).strip("-")
    return artifacts_dir() / "runs" / f"{stem}.report.json"


def reply_requests(stages: Stages, samples: Sequence[Sample], lists: Sequence[Sequence[str]]) -> list[ReplyRequest]:
    """The reply requests for ``samples``: each recommends the top of its list, without the dialogue's movies."""
    states = stages.states([s.context for s in samples])
    requests = []
    for state, ranked in zip(states, lists):
        mentioned = set(stages.mentioned_twins(state))
        items = [stages.catalog[i] for i in ranked if i in stages.catalog and i not in mentioned]
        requests.append(stages.reply_request(state, items))
    return requests


def human_reply(stages: Stages, sample: Sample) -> str:
    """The human reply with its movies written as the catalogue writes them."""
    return canonical_titles(sample.gold_turn.text, [stages.catalog[i] for i in sample.gold if i in stages.catalog])


@torch.no_grad()
def perplexity(model, tokenizer, prompts: Sequence[str], targets: Sequence[str], progress: bool = True) -> dict:
    """exp(mean loss) of ``targets`` given ``prompts`` over all their tokens, with a bootstrap interval over
    samples (of the per-token losses' ratio)."""
    losses, counts = [], []
    for prompt, target in tqdm(list(zip(prompts, targets)), desc="perplexity", disable=not progress):
        prompt_ids = tokenizer.encode(prompt, add_special_tokens=False)
        target_ids = tokenizer.encode(target, add_special_tokens=False)
        ids = torch.tensor([prompt_ids + target_ids])
        logits = model(input_ids=ids).logits[0, len(prompt_ids) - 1 : -1]
        losses.append(float(torch.nn.functional.cross_entropy(logits.float(), ids[0, len(prompt_ids):],
                                                              reduction="sum")))
        counts.append(len(target_ids))
    rng, n = random.Random(0), len(losses)
    draws = []
    for _ in range(BOOTSTRAP):
        picks = [rng.randrange(n) for _ in range(n)]
        draws.append(math.exp(sum(losses[i] for i in picks) / sum(counts[i] for i in picks)))
    draws.sort()
    return {"perplexity": math.exp(sum(losses) / sum(counts)), "interval": [draws[25], draws[974]],
            "samples": n, "tokens": sum(counts)}


def score_replies(stages: Stages, samples: Sequence[Sample], requests: Sequence[ReplyRequest],
                  replies: Sequence[Reply]) -> tuple[dict, list[dict]]:
    """The metrics of ``replies`` (one per sample) and a row per reply for the replies file."""
    checker, rows = stages.replies.checker, []
    for sample, request, reply in zip(samples, requests, replies):
        human = human_reply(stages, sample)
        grounding = checker(reply.text, request.recommended, stages.matcher)
        named, listed = grounding.named, {i.item_id for i in request.recommended}
        rows.append({
            "sample_id": sample.sample_id, "reply": reply.text, "human": human,
            "recommended": [i.item_id for i in request.recommended], "named": list(named),
            "templated": reply.templated, "fallback": reply.fallback, "draft": reply.draft,
            "dropped": list(reply.dropped), "retried": reply.retried,
            "consistent": bool(named) and all(i in listed for i in named),
            "grounded": grounding.grounded, "says_why": grounding.says_why,
            "false_claims": [str(c) for c in grounding.false_claims],
            "bleu2": bleu(reply.text.split(), human.split(), 2), "bleu4": bleu(reply.text.split(), human.split(), 4),
            "fluency": fluency_problems(reply.text, request.recommended),
        })
    written = [r for r in rows if not r["templated"]]
    share = lambda rs, key: sum(r[key] for r in rs) / len(rs) if rs else float("nan")  # noqa: E731
    tokens = [r["reply"].split() for r in rows]
    metrics = {
        "replies": len(rows), "bleu2": mean_interval([r["bleu2"] for r in rows]),
        "bleu4": mean_interval([r["bleu4"] for r in rows]),
        **{f"dist{k}": distinct(tokens, k) for k in (2, 3, 4)},
        "item_ratio": sum(bool(r["named"]) for r in rows) / max(1, len(rows)),
        "movies_per_reply": sum(len(r["named"]) for r in rows) / max(1, len(rows)),
        "templated": share(rows, "templated"),
        "repaired": sum(bool(r["dropped"]) for r in rows) / max(1, len(rows)), "retried": share(rows, "retried"),
        "fallbacks": dict(Counter(r["fallback"].split(":")[0] for r in rows if r["fallback"])),
        "written": len(written), "consistency": share(written, "consistent"), "grounding": share(written, "grounded"),
        "says_why": share(written, "says_why"), "words_per_reply": sum(map(len, tokens)) / max(1, len(tokens)),
        "all_replies": {key: share(rows, key) for key in ("consistent", "grounded", "says_why")},
        "fluency": {problem: sum(problem in r["fluency"] for r in rows) / max(1, len(rows)) for problem in PROBLEMS},
        "fluent": sum(not r["fluency"] for r in rows) / max(1, len(rows)),
    }
    return metrics, rows


def evaluate_conversation(stages: Stages, run: ConversationRun, lists: dict[str, list[str]], replies_path: Path,
                          report_path: Path, models: dict, progress: bool = True) -> dict:
    """Write a reply for each sample of the split, score them, and write the replies (JSONL) and the report."""
    started = time.time()
    samples = stages.dataset.samples(run.split, "std")[: run.limit]
    if run.samples and run.samples < len(samples):
        samples = [samples[i] for i in sorted(random.Random(0).sample(range(len(samples)), run.samples))]
    missing = [s.sample_id for s in samples if s.sample_id not in lists]
    if missing:
        from llmkb.errors import LLMKBError

        raise LLMKBError(f"the {run.ranking} predictions lack {len(missing)} samples (first {missing[0]}); "
                         f"run llmkb evaluate --dataset {run.dataset} --protocol std --split {run.split} "
                         f"--system {run.ranking} first")
    requests = reply_requests(stages, samples, [lists[s.sample_id] for s in samples])
    replies = stages.replies(requests, progress=progress)
    metrics, rows = score_replies(stages, samples, requests, replies)
    if stages.replies.model is not None and run.perplexity_samples:
        chosen = sorted(random.Random(0).sample(range(len(samples)), min(run.perplexity_samples, len(samples))))
        gold = [training_request(stages, samples[i]) for i in chosen]
        prompts = [reply_prompt(stages.replies.tokenizer, r, stages.replies.budget).text for r in gold]
        metrics["perplexity"] = perplexity(stages.replies.model, stages.replies.tokenizer, prompts,
                                           [human_reply(stages, samples[i]) for i in chosen], progress)
    atomic_write_jsonl(replies_path, rows)
    report = {"task": "conversation", **asdict(run), "metrics": metrics, "command": command_line(), "models": models,
              "replies": str(replies_path), "data_files": stages.dataset.file_hashes(),
              "seconds": round(time.time() - started, 1), "date": time.strftime("%Y-%m-%d")}
    atomic_write_json(report_path, report)
    return report


def training_request(stages: Stages, sample: Sample) -> ReplyRequest:
    """The request whose ideal reply is the human one: it recommends the movies the human recommended."""
    state = stages.states([sample.context])[0]
    return stages.reply_request(state, [stages.catalog[i] for i in sample.gold if i in stages.catalog])


def side_by_side(paths: Sequence[Path], names: Sequence[str], count: int = 20, seed: int = 0,
                 dialogue: dict[str, str] | None = None) -> str:
    """Markdown: ``count`` seeded samples that every replies file holds, each with the human reply and every
    writer's reply (and, with ``dialogue``: sample id → its last seeker turn, that turn), for a reader to judge."""
    rows = [{r["sample_id"]: r for _, r in read_jsonl(path, dict)} for path in paths]
    shared = sorted(set.intersection(*(set(r) for r in rows)), key=lambda i: list(rows[0]).index(i))
    chosen = sorted(random.Random(seed).sample(shared, min(count, len(shared))), key=shared.index)
    out = []
    for number, sample in enumerate(chosen, 1):
        out += [f"**{number}. `{sample}`**", ""]
        if dialogue and sample in dialogue:
            out.append(f"- *seeker:* {dialogue[sample]}")
        out.append(f"- *human:* {rows[0][sample]['human']}")
        for name, replies in zip(names, rows):
            row = replies[sample]
            note = " *(template: " + row["fallback"].split(":")[0] + ")*" if row["templated"] and row["fallback"] else ""
            if not row["templated"] and (row.get("retried") or row.get("dropped")):
                said = "second attempt" if row.get("retried") else "first attempt"
                note = f" *({said}" + "".join(f"; left out: “{s}”" for s in row.get("dropped", ())) + ")*"
            out.append(f"- *{name}:* {row['reply']}{note}")
        out.append("")
    return "\n".join(out)
