#!/usr/bin/env python
"""Benchmark: time to convert SmolLM2-135M and cost it, and CPU inference slowdown vs dense, in one run.

    OMP_NUM_THREADS=1 python benchmarks/rram_convert.py [--model PATH] [--tokens 128] [--repeats 5]
        [--family reconstruct+gptq --key-bits 5 --skip-zero-slices]

Forward passes of the dense and the simulated model are interleaved and the medians compared. A compensated
family (``+gptq``, ``gptq``) first takes each layer's input Hessian from ``--calibrate`` windows of random tokens
(timing only: the real runs calibrate on training dialogues), and that time counts as conversion.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch

import rram
from rram.experiment import FAMILIES


def timed_pair(a, b, repeats: int) -> tuple[float, float]:
    """Median seconds of ``a`` and ``b``, interleaved (a, b, a, b, ...) so that load changes hit both alike."""
    a(), b()  # warm-up
    ta, tb = [], []
    for _ in range(repeats):
        for fn, out in ((a, ta), (b, tb)):
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
    return statistics.median(ta), statistics.median(tb)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None, help="HF model dir or .gguf (default: packaged SmolLM2)")
    p.add_argument("--tokens", type=int, default=128)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--key-bits", type=int, default=4)
    p.add_argument("--family", default="reconstruct", choices=sorted(FAMILIES), help="method family to convert with")
    p.add_argument("--calibrate", type=int, default=4, help="windows of --tokens random tokens for the Hessians")
    p.add_argument("--skip-zero-slices", action="store_true", help="bit-slice sparsity in the mapping")
    args = p.parse_args()

    from llmkb.generation.llm import load_llm

    t0 = time.perf_counter()
    dense, _ = load_llm(args.model)
    load_s = time.perf_counter() - t0
    model = copy.deepcopy(dense)
    compensate = FAMILIES[args.family].get("compensate", False)
    config = rram.RRAMConfig.build(**FAMILIES[args.family], key_bits=args.key_bits,
                                   crossbar=rram.CrossbarConfig(skip_zero_slices=args.skip_zero_slices))
    ids = torch.randint(0, dense.config.vocab_size, (1, args.tokens))
    t0 = time.perf_counter()
    hessians = None
    if compensate:
        windows = [torch.randint(0, dense.config.vocab_size, (1, args.tokens)) for _ in range(args.calibrate)]
        hessians = rram.calibrate(dense, lambda m: [m(w) for w in windows], exclude=["lm_head"], hessian=True)
    rram.convert(model, config, exclude=["lm_head"], hessians=hessians)
    convert_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    cost = rram.model_cost(model)
    cost_s = time.perf_counter() - t0
    model.eval()
    with torch.no_grad():
        dense_s, sim_s = timed_pair(lambda: dense(ids), lambda: model(ids), args.repeats)
    print(f"load {load_s:.1f} s | convert {convert_s:.1f} s | cost report {cost_s:.1f} s "
          f"| convert+cost {convert_s + cost_s:.1f} s (target < 60 s)")
    print(f"{args.family}-{args.key_bits}b{' with bit-slice skipping' if args.skip_zero_slices else ''}")
    print(f"crossbars {cost.crossbars:,} | {cost.tops_per_w:.3f} TOPS/W | {cost.area_mm2:.1f} mm² ({cost.technology})")
    print(f"torch threads {torch.get_num_threads()} | dtype {next(dense.parameters()).dtype} | median of {args.repeats}")
    print(f"forward {args.tokens} tokens: dense {dense_s * 1e3:.1f} ms, simulated {sim_s * 1e3:.1f} ms, "
          f"slowdown {sim_s / dense_s:.2f}x")


if __name__ == "__main__":
    main()
