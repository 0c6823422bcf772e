"""The reply writer trained on the dialogues: LoRA on SmolLM2 from training-split recommender turns only.

Each pair is the reply prompt exactly as the recommender writes it (the dialogue so far, the movies the human
recommended with why they fit and their KB documents) → the human reply, its movies written as the catalogue writes
them (``canonical_titles``). Only turns whose human reply says why are kept: it names a catalogue movie, states at least one KB fact
about each movie it names, and states nothing the KB does not hold (``llmkb.postprocess.grounding``). A reply in
the seeker's voice is left out: one that says it has seen or likes a movie and never turns to the seeker or
recommends ("Yes that one was interesting. I liked One Hour Photo (2002) as well.";
``llmkb.postprocess.fluency.reacts_without_recommending``), 8.6% of ReDial's recommender turns that name a movie. So the writer learns the dialogues' voice and to give
grounded reasons, which the checks then require.

The adapter is keyed by what it is trained from (base model, data files, KB and this module's version, settings),
under ``<artifacts>/reply-writer/<key>``; training saves checkpoints and resumes from the last one.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import random
from collections.abc import Callable, Sequence
from pathlib import Path

from tqdm.auto import tqdm

from llmkb.errors import LLMKBError
from llmkb.generation.lora import LoraSettings, train_lora
from llmkb.kb.build import KB_VERSION
from llmkb.models import default_llm_path
from llmkb.paths import artifacts_dir
from llmkb.pipeline.config import SCORES_VERSION, WRITER_RUNTIME, RecommenderConfig
from llmkb.pipeline.reply import reply_prompt
from llmkb.pipeline.stages import Stages
from llmkb.postprocess.fluency import reacts_without_recommending
from llmkb.postprocess.titles import canonical_titles
from llmkb.retrieval.index import model_fingerprint

REPLY_DATA_VERSION = 7  # 2: reasons are the linkable facts, sentences without a movie speak of the next ones;
# 3: human replies keep their words (only their titles are written as the catalogue writes them); 4: no seeker's voice;
# 5: retrain after the linker changes of SCORES_VERSION 13-15 (1,211 pairs pass instead of 1,201, so the seeded
# shuffle's first 480 are others); 6: the key holds SCORES_VERSION, so a linker change retrains the writer; the
# output layer runs only where a target token follows (``llmkb.generation.lora.TargetLogitsOnly``); 7: LoRA's initial
# weights are seeded, so the first-run build and ``llmkb train-replies`` train the same writer
DATASETS = ("redial", "inspired")
SETTINGS = LoraSettings(r=16, alpha=32, target_modules=("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
                                                        "up_proj", "down_proj"), learning_rate=5e-4, batch_size=8)
EPOCHS = 1
MAX_PAIRS = 480  # 60 steps of 8
SNAPSHOT_STEPS = 30  # a longer run (``max_steps``) keeps its adapter this often


def reply_pairs(stages: Stages, progress: bool = True) -> list[tuple[str, str]]:
    """(rendered reply prompt, human reply) for the training turns whose human reply says why (module docstring)."""
    catalog, writer = stages.catalog, stages.replies
    kept = []
    for sample in stages.dataset.samples("train", "std"):
        gold = [catalog[i] for i in sample.gold if i in catalog]
        if not gold:
            continue
        human = canonical_titles(sample.gold_turn.text, gold)
        if reacts_without_recommending(human):
            continue
        grounding = writer.checker(human, gold)
        if grounding.grounded and grounding.says_why:
            kept.append((sample, human))
    states = stages.states([sample.context for sample, _ in kept])
    pairs = []
    for (sample, target), state in tqdm(list(zip(kept, states)), desc=f"reply pairs ({stages.dataset.name})",
                                        disable=not progress):
        request = stages.reply_request(state, [catalog[i] for i in sample.gold if i in catalog])
        pairs.append((reply_prompt(writer.tokenizer, request, writer.budget).text, target))
    return pairs


def trained_reply_writer(data_dir: Path | None = None, llm: Path | None = None) -> Path | None:
    """The reply writer trained for these inputs, or None when it is not trained (or the data is missing)."""
    try:
        path = reply_writer_path(reply_writer_key(data_dir, llm))
    except (LLMKBError, OSError):  # the data is not fetched: nothing can have been trained from it
        return None
    return path if (path / "adapter_config.json").is_file() else None


def with_reply_writer(config: RecommenderConfig) -> RecommenderConfig:
    """``config`` writing its replies with the trained reply writer when it is trained, else as it is. The writer
    computes in ``WRITER_RUNTIME`` (PyTorch's int8 copy loses what it learned, docs/results/conversation.md), or in
    float32 when ``config`` asks for it."""
    if not config.use_llm or config.reply_lora is not None:
        return config
    path = trained_reply_writer(config.data_dir, config.llm)
    runtime = "float32" if config.reply_runtime == "float32" else WRITER_RUNTIME
    return dataclasses.replace(config, reply_lora=path, reply_runtime=runtime) if path else config


@functools.lru_cache(maxsize=8)
def reply_writer_key(data_dir: Path | None = None, llm: Path | None = None, datasets: Sequence[str] = DATASETS,
                     settings: LoraSettings = SETTINGS) -> str:
    """What the adapter is trained from, hashed (16 hex digits)."""
    from llmkb.data import load_dataset

    files = {name: load_dataset(name, data_dir) for name in datasets}  # names and sizes: hashing takes seconds
    inputs = {"llm": model_fingerprint(llm or default_llm_path())[:16], "kb": KB_VERSION, "version": REPLY_DATA_VERSION,
              "scores": SCORES_VERSION,  # the prompts hold what the linker reads in the dialogue
              "data": {name: sorted((str(p.relative_to(d.root)), p.stat().st_size) for p in d.input_files())
                       for name, d in files.items()},
              "settings": settings.__dict__, "epochs": EPOCHS, "pairs": MAX_PAIRS}
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=list).encode()).hexdigest()[:16]


def reply_writer_path(key: str) -> Path:
    return artifacts_dir() / "reply-writer" / key


def train_reply_writer(data_dir: Path | None = None, llm: Path | None = None, datasets: Sequence[str] = DATASETS,
                       settings: LoraSettings = SETTINGS, max_steps: int | None = None, progress: bool = True,
                       report: Callable[[float], None] | None = None, **options) -> Path:
    """Train the reply writer on the training splits of ``datasets`` (resuming), unless it is trained; its path.
    ``max_steps``: train this many steps instead of the first-run build's one epoch over ``MAX_PAIRS`` pairs, on
    up to ``max_steps`` batches of distinct pairs; a run of more steps keeps its adapter every ``SNAPSHOT_STEPS``
    steps (``snapshots/step-N``), so that the length can be chosen on validation data. ``report``: the fraction
    done, as it trains. ``options``: more ``RecommenderConfig`` fields for the stages the pairs come from."""
    out = reply_writer_path(reply_writer_key(data_dir, llm, tuple(datasets), settings))
    out = out.with_name(f"{out.name}-{max_steps}-steps") if max_steps else out  # never taken for the served one
    if (out / "adapter_config.json").is_file():
        return out
    pairs: list[tuple[str, str]] = []
    model = tokenizer = None
    for name in datasets:
        stages = Stages.load(RecommenderConfig(**{"dataset": name, "llm": llm, "llm_scoring": False,
                                                  "reply_runtime": "float32", "data_dir": data_dir, **options}), progress)
        pairs += reply_pairs(stages, progress)
        model, tokenizer = stages.replies.model, stages.replies.tokenizer
    random.Random(settings.seed).shuffle(pairs)  # the first MAX_PAIRS are the first-run build's
    available, pairs = len(pairs), pairs[: max(MAX_PAIRS, (max_steps or 0) * settings.batch_size)]
    steps = max_steps or max(1, EPOCHS * len(pairs) // settings.batch_size)
    snapshots = range(SNAPSHOT_STEPS, steps, SNAPSHOT_STEPS) if max_steps else ()
    about = {"pairs": len(pairs), "of": available, "datasets": list(datasets), "steps": steps,
             "epochs": round(steps * settings.batch_size / len(pairs), 2), "snapshots": list(snapshots)}
    train_lora(model, tokenizer, pairs, out, steps, settings, resume=True, about=about, report=report,
               snapshots=snapshots)
    return out
