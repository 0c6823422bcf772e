#!/usr/bin/env python
"""Benchmark: time to convert SmolLM2-135M and cost it, and CPU inference slowdown vs dense, in one run.

    python benchmarks/rram_convert.py [--model PATH] [--tokens 128] [--repeats 5]
"""

from __future__ import annotations

import argparse
import copy
import time


import torch  # noqa: E402

import rram  # noqa: E402


def timed(fn, repeats: int) -> float:
    fn()  # warm-up
    t0 = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - t0) / repeats


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None, help="HF model dir or .gguf (default: packaged SmolLM2)")
    p.add_argument("--tokens", type=int, default=128)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--key-bits", type=int, default=4)
    args = p.parse_args()

    from llmkb.generation.llm import load_llm

    t0 = time.perf_counter()
    dense, _ = load_llm(args.model)
    load_s = time.perf_counter() - t0
    model = copy.deepcopy(dense)
    t0 = time.perf_counter()
    rram.convert(model, rram.RRAMConfig.build(key_bits=args.key_bits), exclude=["lm_head"])
    convert_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    cost = rram.model_cost(model)
    cost_s = time.perf_counter() - t0
    model.eval()
    ids = torch.randint(0, dense.config.vocab_size, (1, args.tokens))
    with torch.no_grad():
        dense_s = timed(lambda: dense(ids), args.repeats)
        sim_s = timed(lambda: model(ids), args.repeats)
    print(f"load {load_s:.1f} s | convert {convert_s:.1f} s | cost report {cost_s:.1f} s "
          f"| convert+cost {convert_s + cost_s:.1f} s (target < 60 s)")
    print(f"crossbars {cost.crossbars:,} | {cost.tops_per_w:.3f} TOPS/W | {cost.area_mm2:.1f} mm² ({cost.technology})")
    print(f"forward {args.tokens} tokens: dense {dense_s * 1e3:.1f} ms, simulated {sim_s * 1e3:.1f} ms, "
          f"slowdown {sim_s / dense_s:.2f}x")


if __name__ == "__main__":
    main()
