#!/usr/bin/env python
"""What the LLM's title likelihood knows, on the validation split, with and without a LoRA adapter.

    python scripts/llm_signal.py --dataset redial --protocol std --lora artifacts/lora/redial

For each setup it prints, over the samples where a gold movie is among the LLM-scored candidates, how often the
candidate the LLM scores highest is a gold one, next to the retriever's best among the same candidates; then the
best validation objective of the fusion (mean R@1 + R@10 + R@50) for each LLM weight of the grid. The LLM scores
come from the evaluation cache (`llmkb evaluate ... --system rag` fills it) and are computed where missing.
"""

import argparse
from pathlib import Path

from llmkb.evaluation.rag import cached_candidates, tune_on
from llmkb.pipeline.fusion import GRID
from llmkb.pipeline.recommender import Recommender, RecommenderConfig


def report(recommender: Recommender, protocol: str, label: str) -> None:
    samples = recommender.dataset.samples("valid", protocol)
    rows = cached_candidates(recommender, samples, "valid", progress=True)
    llm_right = retriever_right = reachable = 0
    for row, sample in zip(rows, samples):
        scored = [i for i, score in enumerate(row.llm) if score is not None]
        if not any(row.ids[i] in sample.gold for i in scored):
            continue
        reachable += 1
        llm_right += row.ids[max(scored, key=lambda i: row.llm[i])] in sample.gold
        retriever_right += row.ids[max(scored, key=lambda i: row.retriever[i])] in sample.gold
    print(f"\n{label}: {len(samples)} valid samples, {reachable} with a gold movie among the LLM-scored candidates")
    if reachable:
        print(f"  best-scored candidate is gold: LLM {llm_right / reachable:.3f}, "
              f"retriever {retriever_right / reachable:.3f}")
    for weight in GRID["llm"]:
        weights, score = tune_on(recommender, rows, samples, {**GRID, "llm": (weight,)})
        print(f"  llm weight {weight:<4}: best objective {score:.4f} "
              f"(context {weights.context}, popularity {weights.popularity}, co-mention {weights.co_mention})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=("redial", "inspired"), default="redial")
    parser.add_argument("--protocol", choices=("std", "dedup"), default="std")
    parser.add_argument("--lora", type=Path, help="a LoRA adapter from `llmkb train-llm`, reported beside the base LLM")
    args = parser.parse_args()
    report(Recommender(RecommenderConfig(dataset=args.dataset), progress=False), args.protocol, "base LLM")
    if args.lora:
        report(Recommender(RecommenderConfig(dataset=args.dataset, lora=args.lora), progress=False), args.protocol,
               f"LLM + LoRA {args.lora}")


if __name__ == "__main__":
    main()
