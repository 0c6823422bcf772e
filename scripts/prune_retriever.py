#!/usr/bin/env python
"""Prune the MiniLM retriever onto simulated RRAM crossbars with every method; write a report.

Accuracy: Recall@50 (and @10) of the recommendation task on a validation split, through the
evaluation harness (llmkb.evaluation), the pruned encoder re-encoding the whole KB. Retraining:
in-batch contrastive loss on training-split (query, gold document) pairs.

    python scripts/prune_retriever.py --out artifacts/rram/retriever --steps 30 --key-bits 3,4,5 --tolerance 0.01
"""

from __future__ import annotations

import argparse
from pathlib import Path

import rram_cli
import rram_tasks


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None, help="sentence-transformers directory (default: packaged all-MiniLM-L6-v2)")
    p.add_argument("--dataset", choices=["inspired", "redial"], default="inspired")
    p.add_argument("--split", default="valid", help="evaluation split (default valid)")
    p.add_argument("--protocol", choices=["std", "dedup"], default="std")
    p.add_argument("--metric", default="recall@50", help="harness metric used as the accuracy (default recall@50)")
    rram_cli.add_common(p)
    args = p.parse_args(argv)

    from llmkb.models import default_retriever_path
    from llmkb.retrieval.retriever import load_encoder

    path = Path(args.model) if args.model else default_retriever_path()
    base = load_encoder(path).eval()
    evaluate = rram_tasks.harness_recall(path, args.dataset, args.split, args.protocol, args.metric,
                                         Path(args.out) / "runs")

    def train_batches(steps: int) -> list:
        pairs = rram_tasks.query_document_pairs(args.dataset, "train")
        return rram_cli.batches(pairs, args.batch_size)[:steps]

    rram_cli.run_and_write(
        args, base, evaluate, model_name=f"all-MiniLM-L6-v2 ({path})", metric=f"{args.metric} ({args.dataset}-{args.protocol} {args.split})",
        higher_is_better=True, loss_fn=rram_tasks.contrastive_loss, train_batches=train_batches,
        exclude=["*pooler*"], meta={"model_path": str(path), "dataset": args.dataset, "split": args.split,
                                     "protocol": args.protocol},
    )


if __name__ == "__main__":
    main()
