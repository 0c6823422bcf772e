#!/usr/bin/env python
"""Prune the MiniLM retriever onto simulated RRAM crossbars with every method; write a report.

Accuracy: Recall@10 of seeker turn → next recommender turn among held-out ReDial validation pairs.

    python scripts/prune_retriever.py --out artifacts/rram/retriever --steps 50
"""

from __future__ import annotations

import argparse
import sys

import rram_cli
import rram_tasks


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None, help="sentence-transformers directory (default: packaged all-MiniLM-L6-v2)")
    p.add_argument("--eval-pairs", type=int, default=500, help="held-out (query, response) pairs")
    p.add_argument("--train-pairs", type=int, default=2000, help="training pairs for retraining")
    rram_cli.add_common(p)
    args = p.parse_args(argv)

    from sentence_transformers import SentenceTransformer

    from rram.experiment import run_methods
    from rram.report import write_all

    path = args.model
    if path is None:
        from llmkb.models import default_retriever_path

        path = str(default_retriever_path())
    base = SentenceTransformer(path, device="cpu").eval()
    evaluate = rram_tasks.recall_at_k(rram_tasks.dialogue_pairs("valid", args.eval_pairs))
    rcfg = rram_cli.retrain_config(args)
    retrain_with = None
    if rcfg:
        train = rram_cli.batches(rram_tasks.dialogue_pairs("train", args.train_pairs), args.batch_size)
        retrain_with = (rram_tasks.contrastive_loss, train, rcfg)
    report = run_methods(
        base, evaluate, rram_cli.configs_from(args), model_name=f"all-MiniLM-L6-v2 ({path})",
        metric="recall@10", higher_is_better=True, exclude=["*pooler*"], retrain_with=retrain_with, float_accuracy=True,
        meta={"command": " ".join(sys.argv), "eval_pairs": args.eval_pairs, "steps": args.steps},
    )
    for kind, f in write_all(report, args.out).items():
        print(f"wrote {f}")


if __name__ == "__main__":
    main()
