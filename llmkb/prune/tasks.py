"""The two models ``llmkb rram prune`` prunes, each as a ``Task``: the model, its evaluation, its retraining loss
and batches.

- retriever: Recall@50 (and every other harness metric) of the recommendation task on a validation split, through
  ``llmkb.evaluation.harness``, the pruned encoder re-encoding the whole KB; retraining loss: in-batch contrastive on
  training-split (query, gold KB document) pairs (``rram.tasks.retriever``).
- llm: perplexity on held-out ReDial dialogues of ``config.split`` (lower is better); retraining loss: language-model
  loss on ReDial training dialogues, one window per step (``rram.tasks.causal_lm``). The tied output head stays
  digital unless ``config.include_head``.

>>> model_kind("llm")
('llm', None)
"""

from __future__ import annotations

import itertools
import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from llmkb.errors import LLMKBError
from llmkb.prune.config import MODELS, PruneConfig

LLM_TRAIN_DIALOGUES = 400  # ReDial training dialogues turned into training windows


@dataclass
class Task:
    """One model ready for ``rram.run_methods``: its evaluation, retraining loss and batches, and report labels."""

    model: object
    evaluate: Callable
    loss_fn: Callable
    train_batches: Callable[[int], list]  # n → up to n training batches
    name: str
    metric: str
    higher_is_better: bool
    exclude: list[str] | None
    meta: dict = field(default_factory=dict)
    report_evaluate: Callable | None = None  # the same evaluation on --report-split


def model_kind(model: str) -> tuple[str, Path | None]:
    """("retriever" or "llm", the model's path; None for the packaged one) of a ``--model`` value."""
    if model in MODELS:
        return model, None
    path = Path(model)
    if (path / "modules.json").is_file():
        return "retriever", path
    if path.suffix == ".gguf" and path.is_file() or (path / "config.json").is_file() or any(path.glob("*.gguf")):
        return "llm", path
    what = "does not exist" if not path.exists() else "is neither a sentence-transformers directory (modules.json) " \
                                                       "nor a HF causal LM directory (config.json) or .gguf file"
    raise LLMKBError(f"--model {model}: {what}; pass retriever, llm, or such a path")


def build_task(config: PruneConfig) -> Task:
    """The retriever's or the LLM's task, as ``--model`` names it."""
    kind, path = model_kind(config.model)
    return (retriever_task if kind == "retriever" else llm_task)(config, path)


def retriever_task(config: PruneConfig, path: Path | None) -> Task:
    from llmkb.models import default_retriever_path
    from llmkb.retrieval.retriever import load_encoder
    from rram.tasks.retriever import contrastive_loss, pair_batches

    name = f"all-MiniLM-L6-v2 ({default_retriever_path()})" if path is None else str(path)
    path = path or default_retriever_path()
    data_dir = config.data_dir
    evaluate = harness_recall(path, config.dataset, config.split, config.protocol, config.metric, config.out / "runs", data_dir)
    report_evaluate = None
    if config.report_split:
        report_evaluate = harness_recall(path, config.dataset, config.report_split, config.protocol, config.metric,
                                         config.out / f"runs-{config.report_split}", data_dir)

    def train_batches(n: int) -> list:
        pairs = query_document_pairs(config.dataset, "train", seed=config.seed, data_dir=data_dir)
        return pair_batches(pairs, config.batch_size)[:n]

    return Task(load_encoder(path).eval(), evaluate, contrastive_loss, train_batches, name,
                metric=f"{config.metric} ({config.dataset}-{config.protocol} {config.split})", higher_is_better=True,
                exclude=["*pooler*"], report_evaluate=report_evaluate,
                meta={"model_path": str(path), "dataset": config.dataset, "split": config.split, "protocol": config.protocol})


def llm_task(config: PruneConfig, path: Path | None) -> Task:
    from llmkb.generation.llm import load_llm
    from rram.tasks.causal_lm import lm_loss, perplexity, token_windows

    model, tokenizer = load_llm(path)
    model.eval()
    data_dir = config.data_dir

    def held_out(split: str) -> list:
        windows = token_windows(tokenizer, dialogue_texts(split, None, data_dir), config.window, config.eval_windows)
        if not windows:
            raise LLMKBError(f"the ReDial {split} dialogues hold no full window of {config.window} tokens; "
                             "lower --window or pass another split")
        return windows

    windows = held_out(config.split)
    train_windows = token_windows(tokenizer, dialogue_texts("train", LLM_TRAIN_DIALOGUES, data_dir), config.window,
                                  10**9)
    random.Random(config.seed).shuffle(train_windows)
    meta = {"eval_windows": len(windows), "eval_tokens": sum(w.numel() for w in windows), "window": config.window,
            "split": config.split, "unit_accuracy": "exp_mean"}
    report_evaluate = None
    if config.report_split:
        report_windows = held_out(config.report_split)
        report_evaluate = perplexity(report_windows)
        meta["report_tokens"] = sum(w.numel() for w in report_windows)
    from llmkb.models import default_llm_path, reference_note

    meta["reference"] = reference_note(path or default_llm_path())  # a GGUF's "dense" is its dequantized weights
    name = "SmolLM2-135M-Instruct" if path is None else str(path)
    if meta["reference"] != "float weights":
        name += f" ({meta['reference']})"
    return Task(model, perplexity(windows), lm_loss, lambda n: train_windows[:n], name=name, metric="perplexity",
                higher_is_better=False, exclude=None if config.include_head else ["lm_head"], meta=meta,
                report_evaluate=report_evaluate)


def dialogue_texts(split: str, limit: int | None, data_dir: str | Path | None = None) -> list[str]:
    """The first ``limit`` (None: all) ReDial dialogues of ``split``, one "role: text" line per turn."""
    from llmkb.data import load_dataset

    dialogues = load_dataset("redial", data_dir).dialogues(split)[:limit]
    return ["\n".join(f"{t.role}: {t.text}" for t in d.turns) for d in dialogues]


def query_document_pairs(dataset_name: str = "inspired", split: str = "train", seed: int = 0,
                         data_dir: str | Path | None = None) -> list[tuple[str, str]]:
    """(query text, gold KB document text) pairs, one per (sample, gold), shuffled (the retriever's training data)."""
    from llmkb.data import load_dataset
    from llmkb.kb import build_kb, load_kb
    from llmkb.retrieval import QueryBuilder

    dataset = load_dataset(dataset_name, data_dir)
    documents = load_kb(build_kb(dataset)[0])
    text = {doc.item_id: doc.text for doc in documents}
    builder = QueryBuilder.for_dataset(dataset, documents=documents)
    pairs = [(builder.build(s.context), text[g]) for s in dataset.samples(split, "std") for g in s.gold if g in text]
    random.Random(seed).shuffle(pairs)
    return pairs


def harness_recall(model_path: str | Path, dataset_name: str = "inspired", split: str = "valid",
                   protocol: str = "std", metric: str = "recall@50", out_dir: str | Path | None = None,
                   data_dir: str | Path | None = None) -> Callable:
    """evaluate(model) → {"accuracy": metric, every harness metric, and "units": the metric per sample where it has
    one}, ranking with ``model`` as the encoder.

    The harness writes each run's predictions and report under ``out_dir`` (default: a temporary folder).
    """
    from llmkb.data import load_dataset
    from llmkb.evaluation.harness import Run, evaluate as run_harness
    from llmkb.evaluation.systems import Dense
    from llmkb.kb import build_kb, load_kb
    from llmkb.retrieval import DenseRetriever, QueryBuilder
    from llmkb.retrieval.retriever import MAX_SEQ_LENGTH

    dataset = load_dataset(dataset_name, data_dir)
    documents = load_kb(build_kb(dataset)[0])
    builder = QueryBuilder.for_dataset(dataset, documents=documents)
    out = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="rram-harness-"))
    counter = itertools.count()

    def evaluate(model) -> dict:
        model.max_seq_length = MAX_SEQ_LENGTH
        system = Dense(DenseRetriever(model, Path(model_path), documents, builder, cache_dir=None, progress=False))
        run = Run(dataset=dataset_name, protocol=protocol, split=split, system="retriever-rram",
                  models={"retriever": str(model_path)})
        i = next(counter)
        res = run_harness(dataset, run, system, out / f"run{i:02d}.predictions.jsonl", out / f"run{i:02d}.report.json",
                          progress=False)
        if metric not in res["metrics"]:
            raise LLMKBError(f"--metric {metric!r} is not a harness metric; choose from {', '.join(res['metrics'])}")
        units = [m[metric] for m in res["per_sample"]] if metric in res["per_sample"][0] else None
        return {"accuracy": res["metrics"][metric], **res["metrics"], **({"units": units} if units else {})}

    return evaluate
