"""Shared argparse flags for the prune scripts (crossbar, method, retraining, output)."""

from __future__ import annotations

import argparse
import sys

import rram
from rram.retrain import RetrainConfig


def add_common(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("crossbar")
    g.add_argument("--rows", type=int, default=128, help="crossbar rows = group size (default 128)")
    g.add_argument("--cols", type=int, default=128, help="crossbar columns (default 128)")
    g.add_argument("--bits-per-cell", type=int, default=2, help="bits stored per cell: 1, 2 (default) or 4")
    g.add_argument("--encoding", choices=["differential", "offset"], default="differential")
    g.add_argument("--dac-bits", type=int, default=1)
    g.add_argument("--technology", choices=sorted(rram.TECHNOLOGIES), default="isaac32", help="cost constant set")
    m = p.add_argument_group("methods")
    m.add_argument("--weight-bits", type=int, default=8)
    m.add_argument("--key-bits", type=int, default=4, help="bits of the programmed key codes (ours and plain quantization)")
    m.add_argument("--sparsity", type=float, default=0.5, help="fraction pruned by the pruning baselines")
    m.add_argument("--scales", choices=["integer", "pow2"], default="integer")
    m.add_argument("--methods", default="all", help="comma-separated labels to run (default all)")
    t = p.add_argument_group("retraining")
    t.add_argument("--steps", type=int, default=0, help="progressive-retraining steps per method (0 = none)")
    t.add_argument("--lr", type=float, default=1e-5)
    t.add_argument("--batch-size", type=int, default=8)
    t.add_argument("--schedule", choices=["linear", "cosine"], default="linear")
    p.add_argument("--out", required=True, help="directory for report.json, report.md, pareto.png")


def configs_from(args) -> dict[str, rram.RRAMConfig]:
    from rram.experiment import standard_configs

    xbar = rram.CrossbarConfig(rows=args.rows, cols=args.cols, bits_per_cell=args.bits_per_cell,
                               encoding=args.encoding, dac_bits=args.dac_bits)
    cfgs = standard_configs(key_bits=args.key_bits, sparsity=args.sparsity, weight_bits=args.weight_bits,
                            crossbar=xbar, technology=args.technology, scales=args.scales)
    if args.methods != "all":
        keep = {"dense", *args.methods.split(",")}
        unknown = keep - set(cfgs)
        if unknown:
            sys.exit(f"unknown --methods {sorted(unknown)}; choose from {sorted(cfgs)}")
        cfgs = {k: v for k, v in cfgs.items() if k in keep}
    return cfgs


def retrain_config(args) -> RetrainConfig | None:
    if args.steps <= 0:
        return None
    return RetrainConfig(steps=args.steps, lr=args.lr, schedule=args.schedule,
                         refresh_every=max(1, args.steps // 4))


def batches(items: list, size: int) -> list:
    return [items[i : i + size] for i in range(0, len(items) - size + 1, size)]
