#!/usr/bin/env python
"""Prune the SmolLM2 LLM onto simulated RRAM crossbars with every method; write a report.

Accuracy: perplexity on held-out ReDial validation dialogues (lower is better). Retraining:
language-model loss on ReDial training dialogues, one window per step. The tied output head stays
digital unless --include-head.

    python scripts/prune_llm.py --out artifacts/rram/llm --steps 16 --key-bits 4,5,6 --tolerance 0.02
"""

from __future__ import annotations

import argparse

import rram_cli
import rram_tasks


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None, help="HF model dir or .gguf file (default: packaged SmolLM2-135M-Instruct)")
    p.add_argument("--window", type=int, default=256, help="tokens per perplexity window")
    p.add_argument("--eval-windows", type=int, default=64, help="held-out windows for perplexity")
    p.add_argument("--include-head", action="store_true", help="also map the tied 49152x576 output head")
    rram_cli.add_common(p)
    args = p.parse_args(argv)

    from llmkb.generation.llm import load_llm

    base, tok = load_llm(args.model)
    base.eval()
    windows = rram_tasks.token_windows(tok, rram_tasks.dialogue_texts("valid", 227), args.window, args.eval_windows)

    def train_batches(steps: int) -> list:
        return rram_tasks.token_windows(tok, rram_tasks.dialogue_texts("train", 400), args.window, steps)

    rram_cli.run_and_write(
        args, base, rram_tasks.perplexity(windows), model_name="SmolLM2-135M-Instruct", metric="perplexity",
        higher_is_better=False, loss_fn=rram_tasks.lm_loss, train_batches=train_batches,
        exclude=None if args.include_head else ["lm_head"],
        meta={"eval_windows": len(windows), "eval_tokens": sum(w.numel() for w in windows), "window": args.window},
    )


if __name__ == "__main__":
    main()
