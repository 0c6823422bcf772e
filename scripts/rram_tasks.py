"""Task data, accuracy measures and training losses for the two packaged models (uses llmkb).

Retriever: Recall@10/50 of the recommendation task through the evaluation harness
(``llmkb.evaluation.harness``: every sample's ranked list of 50 catalogue ids, PROTOCOLS.md metrics)
with the pruned encoder re-encoding the whole KB; loss = in-batch contrastive (multiple negatives
ranking) on training-split (query, gold document) pairs. Older measure kept: Recall@10 of seeker
turn → next recommender turn among held-out ReDial pairs (``recall_at_k``).
LLM: perplexity on held-out ReDial validation dialogues, loss = language-model loss on training ones.
"""

from __future__ import annotations

import itertools
import random
import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F


def dialogue_pairs(split: str, limit: int, seed: int = 0) -> list[tuple[str, str]]:
    """(seeker turn, following recommender turn) pairs from ReDial ``split``."""
    from llmkb.data import RECOMMENDER, SEEKER, load_dataset

    pairs = []
    for d in load_dataset("redial").dialogues(split):
        for a, b in zip(d.turns, d.turns[1:]):
            if a.role == SEEKER and b.role == RECOMMENDER and a.text.strip() and b.text.strip():
                pairs.append((a.text, b.text))
    random.Random(seed).shuffle(pairs)
    return pairs[:limit]


def harness_recall(model_path: str | Path, dataset_name: str = "inspired", split: str = "valid",
                   protocol: str = "std", metric: str = "recall@50", out_dir: str | Path | None = None):
    """evaluate(model) → {"accuracy": metric, plus every harness metric}, ranking with ``model`` as the encoder.

    The harness writes each run's predictions and report under ``out_dir`` (default: a temporary folder).
    """
    from llmkb.data import load_dataset
    from llmkb.evaluation.harness import Run, evaluate as run_harness
    from llmkb.evaluation.systems import Dense
    from llmkb.kb import build_kb, load_kb
    from llmkb.retrieval import DenseRetriever, QueryBuilder
    from llmkb.retrieval.retriever import MAX_SEQ_LENGTH

    dataset = load_dataset(dataset_name)
    documents = load_kb(build_kb(dataset)[0])
    builder = QueryBuilder.for_dataset(dataset)
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
        return {"accuracy": res["metrics"][metric], **res["metrics"]}

    return evaluate


def query_document_pairs(dataset_name: str = "inspired", split: str = "train", seed: int = 0) -> list[tuple[str, str]]:
    """(query text, gold KB document text) pairs, one per (sample, gold), shuffled (the retriever's training data)."""
    from llmkb.data import load_dataset
    from llmkb.kb import build_kb, load_kb
    from llmkb.retrieval import QueryBuilder

    dataset = load_dataset(dataset_name)
    text = {doc.item_id: doc.text for doc in load_kb(build_kb(dataset)[0])}
    builder = QueryBuilder.for_dataset(dataset)
    pairs = [(builder.build(s.context), text[g]) for s in dataset.samples(split, "std") for g in s.gold if g in text]
    random.Random(seed).shuffle(pairs)
    return pairs


def dialogue_texts(split: str, limit: int) -> list[str]:
    from llmkb.data import load_dataset

    dialogues = load_dataset("redial").dialogues(split)[:limit]
    return ["\n".join(f"{t.role}: {t.text}" for t in d.turns) for d in dialogues]


def embed(model, texts: list[str], batch_size: int = 64) -> torch.Tensor:
    out = []
    for i in range(0, len(texts), batch_size):
        feats = model.tokenize(texts[i : i + batch_size])
        out.append(model(feats)["sentence_embedding"])
    return F.normalize(torch.cat(out), dim=-1)


def recall_at_k(pairs: list[tuple[str, str]], k: int = 10):
    def evaluate(model) -> float:
        q = embed(model, [a for a, _ in pairs])
        r = embed(model, [b for _, b in pairs])
        top = (q @ r.T).topk(k, dim=1).indices
        return float((top == torch.arange(len(pairs)).unsqueeze(1)).any(1).float().mean())

    return evaluate


def contrastive_loss(model, batch: list[tuple[str, str]], scale: float = 20.0) -> torch.Tensor:
    q = F.normalize(model(model.tokenize([a for a, _ in batch]))["sentence_embedding"], dim=-1)
    r = F.normalize(model(model.tokenize([b for _, b in batch]))["sentence_embedding"], dim=-1)
    return F.cross_entropy(scale * q @ r.T, torch.arange(len(batch)))


def token_windows(tokenizer, texts: list[str], window: int, limit: int) -> list[torch.Tensor]:
    ids = tokenizer("\n\n".join(texts), return_tensors="pt").input_ids[0]
    return [ids[i : i + window].unsqueeze(0) for i in range(0, len(ids) - window + 1, window)][:limit]


def perplexity(windows: list[torch.Tensor]):
    def evaluate(model) -> float:
        nll = [float(model(w, labels=w).loss) for w in windows]
        return float(torch.tensor(nll).mean().exp())

    return evaluate


def lm_loss(model, batch: torch.Tensor) -> torch.Tensor:
    return model(batch, labels=batch).loss
