#!/usr/bin/env python
"""Prune the SmolLM2 LLM onto simulated RRAM crossbars with every method; write a report.

Accuracy: perplexity on held-out ReDial validation dialogues (lower is better). The tied output
head stays digital unless --include-head.

    python scripts/prune_llm.py --out artifacts/rram/llm --steps 20
"""

from __future__ import annotations

import argparse
import sys

import rram_cli
import rram_tasks


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None, help="HF model dir or .gguf file (default: packaged SmolLM2-135M-Instruct)")
    p.add_argument("--window", type=int, default=256, help="tokens per perplexity window")
    p.add_argument("--eval-windows", type=int, default=16, help="held-out windows for perplexity")
    p.add_argument("--include-head", action="store_true", help="also map the tied 49152x576 output head")
    rram_cli.add_common(p)
    args = p.parse_args(argv)

    from llmkb.generation.llm import load_llm

    from rram.experiment import run_methods
    from rram.report import write_all

    base, tok = load_llm(args.model)
    base.eval()
    windows = rram_tasks.token_windows(tok, rram_tasks.dialogue_texts("valid", 200), args.window, args.eval_windows)
    rcfg = rram_cli.retrain_config(args)
    retrain_with = None
    if rcfg:
        train = rram_tasks.token_windows(tok, rram_tasks.dialogue_texts("train", 400), args.window, rcfg.steps)
        retrain_with = (rram_tasks.lm_loss, train, rcfg)
    report = run_methods(
        base, rram_tasks.perplexity(windows), rram_cli.configs_from(args), model_name="SmolLM2-135M-Instruct",
        metric="perplexity", higher_is_better=False, exclude=None if args.include_head else ["lm_head"],
        retrain_with=retrain_with, float_accuracy=True,
        meta={"command": " ".join(sys.argv), "eval_windows": len(windows), "window": args.window, "steps": args.steps},
    )
    for kind, f in write_all(report, args.out).items():
        print(f"wrote {f}")


if __name__ == "__main__":
    main()
