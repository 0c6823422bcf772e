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

from llmkb.fitting.tune_fusion import llm_signal
from llmkb.pipeline import RecommenderConfig, Stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=("redial", "inspired"), default="redial")
    parser.add_argument("--protocol", choices=("std", "dedup"), default="std")
    parser.add_argument("--lora", type=Path, help="a LoRA adapter from `llmkb train-llm`, reported beside the base LLM")
    args = parser.parse_args()
    setups = {"base LLM": None, **({f"LLM + LoRA {args.lora}": args.lora} if args.lora else {})}
    for label, lora in setups.items():
        config = RecommenderConfig(dataset=args.dataset, lora=lora, reply_int8=False)
        print(f"\n{label}:\n" + llm_signal(Stages.load(config, progress=False), args.protocol))


if __name__ == "__main__":
    main()
