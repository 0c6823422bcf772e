#!/usr/bin/env python
"""One LoRA training step of the reply writer, with the output layer at every position or only where a target token
follows (``llmkb.generation.lora.TargetLogitsOnly``; issue 34: the first-run build's writer training ≤ 25 minutes).

    python benchmarks/lora_step.py [--batch 8] [--prompt-tokens 300] [--target-tokens 30] [--repeats 3]

Loads the packaged SmolLM2-135M in float32 with the writer's LoRA settings (``llmkb.fitting.reply_data.SETTINGS``),
then times forward + backward on one batch of random tokens shaped like the writer's pairs (a prompt, then a
target whose tokens alone are labelled), alternating the two ways ``--repeats`` times after one warm-up each. It
checks that both give the same loss. Prints JSON (also written to artifacts/benchmarks/lora-step.json).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings

import torch
from peft import get_peft_model
from transformers import DataCollatorForSeq2Seq

from llmkb.data.io import atomic_write_json
from llmkb.fitting.reply_data import SETTINGS
from llmkb.generation.llm import load_llm
from llmkb.generation.lora import TargetLogitsOnly
from llmkb.machine import cpu_name
from llmkb.paths import artifacts_dir


def step_seconds(model, batch: dict) -> tuple[float, float]:
    """Seconds for one forward and backward pass, and the loss."""
    started = time.perf_counter()
    loss = model(**batch).loss
    loss.backward()
    model.zero_grad(set_to_none=True)
    return time.perf_counter() - started, loss.item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=SETTINGS.batch_size)
    parser.add_argument("--prompt-tokens", type=int, default=300)
    parser.add_argument("--target-tokens", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    model, tokenizer = load_llm()
    model = get_peft_model(model, SETTINGS.peft_config()).train()
    generator = torch.Generator().manual_seed(0)
    length = args.prompt_tokens + args.target_tokens
    rows = []
    for _ in range(args.batch):
        ids = torch.randint(100, len(tokenizer) - 100, (length,), generator=generator).tolist()
        rows.append({"input_ids": ids, "attention_mask": [1] * length,
                     "labels": [-100] * args.prompt_tokens + ids[args.prompt_tokens:]})
    pad = DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100)
    batches = {"every position": pad(rows), "target positions only": TargetLogitsOnly(pad)(rows)}
    seconds, losses = {name: [] for name in batches}, {}
    for repeat in range(args.repeats + 1):
        for name, batch in batches.items():
            took, losses[name] = step_seconds(model, batch)
            if repeat:  # the first of each is a warm-up
                seconds[name].append(took)
    medians = {name: statistics.median(times) for name, times in seconds.items()}
    result = {
        "cpu": cpu_name(), "torch_threads": torch.get_num_threads(), "batch": args.batch,
        "prompt_tokens": args.prompt_tokens, "target_tokens": args.target_tokens, "repeats": args.repeats,
        "step_s": {name: [round(t, 2) for t in times] for name, times in seconds.items()},
        "median_step_s": {name: round(m, 2) for name, m in medians.items()},
        "speedup": round(medians["every position"] / medians["target positions only"], 2),
        "loss": {name: round(loss, 6) for name, loss in losses.items()},
    }
    assert abs(losses["every position"] - losses["target positions only"]) < 1e-4, result["loss"]
    atomic_write_json(artifacts_dir() / "benchmarks" / "lora-step.json", result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
