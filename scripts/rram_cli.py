"""What the prune scripts share: argparse flags (crossbar, methods and sweeps, retraining, output),
config building, and running the methods and writing the report."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterable

import rram
from rram.retrain import RetrainConfig


def _ints(s: str) -> list[int]:
    return [int(x) for x in s.split(",") if x]


def _floats(s: str) -> list[float]:
    return [float(x) for x in s.split(",") if x]


def add_common(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("crossbar")
    g.add_argument("--rows", type=int, default=128, help="crossbar rows = group size (default 128)")
    g.add_argument("--cols", type=int, default=128, help="crossbar columns (default 128)")
    g.add_argument("--bits-per-cell", type=int, default=2, help="bits stored per cell: 1, 2 (default) or 4")
    g.add_argument("--encoding", choices=["differential", "offset"], default="differential")
    g.add_argument("--dac-bits", type=int, default=1)
    g.add_argument("--technology", choices=sorted(rram.TECHNOLOGIES), default="isaac32", help="cost constant set")
    m = p.add_argument_group("methods and sweeps")
    m.add_argument("--weight-bits", type=int, default=8)
    m.add_argument("--key-bits", type=_ints, default=[4],
                   help="comma-separated key bits to sweep, ours and plain quantization (default 4)")
    m.add_argument("--sparsity", type=_floats, default=[0.5],
                   help="comma-separated sparsities to sweep for the pruning baselines (default 0.5)")
    m.add_argument("--prune-fraction", type=_floats, default=[0.0],
                   help="comma-separated extra group-pruning fractions for ours (default 0)")
    m.add_argument("--scales", choices=["integer", "pow2"], default="integer")
    m.add_argument("--mixed-bits", type=_ints, default=[4, 6],
                   help="key-bit choices per layer for the mixed-precision runs of ours (default 4,6)")
    m.add_argument("--mixed-budget", type=_floats, default=[],
                   help="comma-separated crossbar budgets, as fractions of dense 8-bit crossbars, for mixed-precision "
                        "runs of ours (per-layer bits from weight-space sensitivity; default none)")
    m.add_argument("--methods", default="all",
                   help="comma-separated methods: reconstruct,quantize,magnitude,row,column,block (default all; dense always)")
    m.add_argument("--tolerance", type=float, default=None,
                   help="equal accuracy = within this fraction of dense (relative); sets each method's operating point")
    t = p.add_argument_group("retraining")
    t.add_argument("--steps", type=int, default=0, help="progressive-retraining steps per method (0 = none)")
    t.add_argument("--lr", type=float, default=1e-5)
    t.add_argument("--batch-size", type=int, default=8)
    t.add_argument("--schedule", choices=["linear", "cosine"], default="linear")
    t.add_argument("--calibrate", type=int, default=0,
                   help="training batches for activation importance (mean squared input per row), used by ours' "
                        "scale search and the pruning baselines' masks (default 0 = unweighted)")
    t.add_argument("--no-retrain-dense", action="store_true",
                   help="do not give the dense reference the same retraining budget")
    p.add_argument("--skip-float", action="store_true", help="do not evaluate the unconverted float model")
    p.add_argument("--out", required=True, help="directory for report.json, report.md, pareto.png")


def configs_from(args) -> dict[str, rram.RRAMConfig]:
    from rram.experiment import sweep_configs

    xbar = rram.CrossbarConfig(rows=args.rows, cols=args.cols, bits_per_cell=args.bits_per_cell,
                               encoding=args.encoding, dac_bits=args.dac_bits)
    fams = None
    if args.methods != "all":
        fams = set(args.methods.split(",")) - {"dense"}
        unknown = fams - set(rram.METHODS)
        if unknown:
            sys.exit(f"unknown --methods {sorted(unknown)}; choose from {sorted(rram.METHODS)}")
    return sweep_configs(key_bits=args.key_bits, sparsities=args.sparsity, methods=fams,
                         prune_fractions=args.prune_fraction, weight_bits=args.weight_bits, crossbar=xbar,
                         technology=args.technology, scales=args.scales)


def mixed_configs(args, base, exclude: Iterable[str] | None) -> dict:
    """Ours with per-layer key bits (``--mixed-bits``) under each ``--mixed-budget``, keyed by label."""
    if not args.mixed_budget:
        return {}
    from rram.mapping import map_layer
    from rram.mixed import MixedConfig, allocate_bits, layer_sensitivity

    ref = configs_from(args)["dense"]
    cfg = rram.RRAMConfig.build(method="reconstruct", key_bits=min(args.mixed_bits), weight_bits=args.weight_bits,
                                crossbar=ref.crossbar, technology=args.technology, scales=args.scales)
    names = rram.select_linears(base, None, exclude)
    dense_xb = sum(map_layer(n, base.get_submodule(n).in_features, base.get_submodule(n).out_features,
                             args.weight_bits, ref.crossbar).crossbars for n in names)
    sens = layer_sensitivity(base, cfg, args.mixed_bits, exclude=exclude)
    lo, hi = min(args.mixed_bits), max(args.mixed_bits)
    out = {}
    for f in args.mixed_budget:
        bits = allocate_bits(sens, int(f * dense_xb))
        out[f"reconstruct-mixed{lo}-{hi}b-{f:g}"] = MixedConfig(cfg, bits)
    return out


def retrain_config(args) -> RetrainConfig | None:
    if args.steps <= 0:
        return None
    return RetrainConfig(steps=args.steps, lr=args.lr, schedule=args.schedule,
                         refresh_every=max(1, args.steps // 4))


def batches(items: list, size: int) -> list:
    return [items[i : i + size] for i in range(0, len(items) - size + 1, size)]


def run_and_write(args, base, evaluate: Callable, model_name: str, metric: str, higher_is_better: bool,
                  loss_fn: Callable | None, train_batches: Callable[[int], list] | None,
                  exclude: Iterable[str] | None, meta: dict, forward: Callable | None = None) -> None:
    """Run every configured method on copies of ``base`` with the same retraining budget; write the report.

    train_batches(n) gives up to n training batches (for --steps and --calibrate); forward(model, batch) runs
    one batch for calibration (default: loss_fn).
    """
    from rram.experiment import run_methods
    from rram.report import write_all

    t0 = time.perf_counter()
    rcfg = retrain_config(args)
    retrain_with = (loss_fn, train_batches(rcfg.steps), rcfg) if rcfg else None
    importance = None
    if args.calibrate > 0:
        run_batch = forward or loss_fn
        calib = train_batches(args.calibrate)
        importance = rram.calibrate(base, lambda m: [run_batch(m, b) for b in calib], exclude=exclude)
    configs = configs_from(args)
    configs.update(mixed_configs(args, base, exclude))
    report = run_methods(
        base, evaluate, configs, model_name=model_name, metric=metric, higher_is_better=higher_is_better,
        exclude=exclude, importance=importance, retrain_with=retrain_with, float_accuracy=not args.skip_float, tolerance=args.tolerance,
        retrain_dense=not args.no_retrain_dense,
        meta={"command": " ".join(sys.argv), "steps": args.steps, "lr": args.lr, "batch_size": args.batch_size,
              "schedule": args.schedule, "retrain_dense": bool(rcfg) and not args.no_retrain_dense,
              "calibration_batches": args.calibrate, **meta},
    )
    report.meta["seconds"] = time.perf_counter() - t0
    for f in write_all(report, args.out).values():
        print(f"wrote {f}")
    eq = report.equal_accuracy()
    if eq:
        print({k: eq[k] for k in ("ours", "baseline", "compression_crossbars", "energy_efficiency",
                                  "area_efficiency", "accuracy_change_vs_dense") if k in eq})
