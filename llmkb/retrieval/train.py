"""Embedding calibration (LLMKB step 2): fine-tune the retriever so a dialogue's query lands near its gold documents.

Pairs: (query of a training sample, KB document of each gold movie) plus one hard negative mined with the base
retriever. Loss: MultipleNegativesRankingLoss (in-batch negatives + the hard negative). False negatives are
filtered: a mined negative is never gold for the sample nor mentioned in its context, and the NO_DUPLICATES batch
sampler keeps a document from appearing twice in a batch (where it would be a negative for its own query).
The model is selected on the validation split (Recall@50 of the sentence-transformers IR evaluator).
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from llmkb.data.dataset import Dataset
from llmkb.data.io import atomic_write_json
from llmkb.data.records import Sample
from llmkb.retrieval.retriever import DenseRetriever

MINE_FROM, MINE_TO = 3, 30  # hard negatives come from these ranks: close, but past the likeliest unlabelled positives


@dataclass
class TrainConfig:
    max_steps: int = 300
    batch_size: int = 32
    learning_rate: float = 5e-5
    warmup_ratio: float = 0.1
    eval_steps: int = 100
    seed: int = 13
    hard_negatives: bool = True


def training_rows(samples: list[Sample], retriever: DenseRetriever, hard_negatives: bool, seed: int) -> list[dict]:
    """One row per (sample, gold): anchor = query, positive = gold document, negative = a mined hard negative."""
    text = {doc.item_id: doc.text for doc in retriever.documents}
    rng = random.Random(seed)
    mined = retriever.rank([s.context for s in samples], MINE_TO) if hard_negatives else [[] for _ in samples]
    rows = []
    for sample, ranked in zip(samples, mined):
        query = retriever.query_builder.build(sample.context)
        blocked = set(sample.gold) | set(sample.mentioned)
        pool = [item for item, _ in ranked[MINE_FROM:] if item not in blocked]
        for gold in sample.gold:
            row = {"anchor": query, "positive": text[gold]}
            if hard_negatives:
                row["negative"] = text[rng.choice(pool)] if pool else text[rng.choice(list(text))]
            rows.append(row)
    rng.shuffle(rows)
    return rows


def ir_evaluator(samples: list[Sample], retriever: DenseRetriever, name: str):
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator

    return InformationRetrievalEvaluator(
        queries={s.sample_id: retriever.query_builder.build(s.context) for s in samples},
        corpus={doc.item_id: doc.text for doc in retriever.documents},
        relevant_docs={s.sample_id: set(s.gold) for s in samples},
        accuracy_at_k=[1, 10, 50], precision_recall_at_k=[1, 10, 50], mrr_at_k=[50], ndcg_at_k=[10], map_at_k=[50],
        batch_size=64, name=name, write_csv=False, show_progress_bar=False)


def train_retriever(dataset: Dataset, base: DenseRetriever, out: Path, config: TrainConfig = TrainConfig()) -> dict:
    """Fine-tune ``base.model`` on ``dataset``'s training split; writes ``out/model`` and ``out/training.json``."""
    from datasets import Dataset as HFDataset
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from sentence_transformers.base.sampler import BatchSamplers

    started = time.time()
    train = dataset.samples("train", "std")
    valid = dataset.samples("valid", "std")
    rows = training_rows(train, base, config.hard_negatives, config.seed)
    model = base.model
    args = SentenceTransformerTrainingArguments(
        output_dir=str(out / "checkpoints"), max_steps=config.max_steps,
        per_device_train_batch_size=config.batch_size, learning_rate=config.learning_rate,
        warmup_steps=config.warmup_ratio, batch_sampler=BatchSamplers.NO_DUPLICATES, seed=config.seed,
        eval_strategy="steps", eval_steps=config.eval_steps, save_strategy="steps", save_steps=config.eval_steps,
        save_total_limit=2, load_best_model_at_end=True, metric_for_best_model="eval_valid_cosine_recall@50",
        greater_is_better=True, logging_steps=10, report_to="none", use_cpu=True, dataloader_num_workers=0,
    )
    trainer = SentenceTransformerTrainer(
        model=model, args=args, train_dataset=HFDataset.from_list(rows),
        loss=MultipleNegativesRankingLoss(model), evaluator=ir_evaluator(valid, base, "valid"))
    before = trainer.evaluator(model)
    trainer.train()
    model.save(str(out / "model"))
    curve = [entry for entry in trainer.state.log_history]
    summary = {
        "dataset": dataset.name, "config": asdict(config), "training_rows": len(rows), "train_samples": len(train),
        "valid_samples": len(valid), "base_valid": before, "best_checkpoint": trainer.state.best_model_checkpoint,
        "best_valid_recall@50": trainer.state.best_metric, "curve": curve,
        "seconds": round(time.time() - started, 1), "date": time.strftime("%Y-%m-%d"),
    }
    atomic_write_json(out / "training.json", json.loads(json.dumps(summary, default=str)))
    return summary
