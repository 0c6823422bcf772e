"""``llmkb rram prune``: prune the retriever or the LLM onto simulated RRAM crossbars with every method; write a report.

Dense plus every method family (``rram.experiment.sweep_configs``) at every swept setting runs on copies of one
model, with the same crossbar and the same retraining budget, and ``report.json``, ``report.md`` and ``pareto.png``
go to ``--out``. With ``--tolerance`` the report also holds each family's operating point and the equal-accuracy
ratios read off the Pareto frontiers (``rram.frontier``), with paired-bootstrap 95% intervals. Settings are chosen
on ``--split``; with ``--report-split test`` the dense reference and every result within tolerance are also
measured there. Each result is saved under ``--out``/results as it finishes: a rerun resumes, and ``--budget``
stops starting new methods after that many minutes.

Families: reconstruct (ours), reconstruct+gptq (ours, codes chosen with GPTQ's error compensation), quantize
(per channel), group (a float scale per crossbar column segment), gptq (group with GPTQ's compensation: the
GPTQ baseline), magnitude, row, column, block. The +gptq families use each layer's input Hessian from
``--calibrate`` training batches.

- retriever: Recall@50 (and every other harness metric) of the recommendation task on a validation split,
  through ``llmkb.evaluation.harness``, the pruned encoder re-encoding the whole KB; retraining loss: in-batch
  contrastive on training-split (query, gold KB document) pairs (``rram.tasks.retriever``).
- llm: perplexity on held-out ReDial validation (``--split``) dialogues (lower is better); retraining loss: language-model
  loss on ReDial training dialogues, one window per step (``rram.tasks.causal_lm``). The tied output head stays
  digital unless ``--include-head``.

    llmkb rram prune --model retriever --out artifacts/rram/retriever --steps 32 --key-bits 4,6 --tolerance 0.01
    llmkb rram prune --model llm --out artifacts/rram/llm --steps 32 --key-bits 4,6 --tolerance 0.02 \
        --methods reconstruct,reconstruct+gptq,quantize,gptq --eval-windows 160 --report-split test --budget 30
"""

from __future__ import annotations

import argparse
from pathlib import Path

import rram
from llmkb.cli.options import DATASETS, PROTOCOLS, HelpFormatter
from llmkb.prune import PruneConfig, build_task, method_configs, prune
from llmkb.prune.config import DEFAULTS
from llmkb.scale.options import add_scale_options
from rram import render


def _ints(s: str) -> tuple[int, ...]:
    return tuple(int(x) for x in s.split(",") if x)


def _floats(s: str) -> tuple[float, ...]:
    return tuple(float(x) for x in s.split(",") if x)


def add(commands) -> None:
    """Add ``rram prune`` to the subparsers of the ``llmkb`` parser (each action sets ``run``)."""
    rram_actions = commands.add_parser("rram", help="prune models onto simulated RRAM crossbars").add_subparsers(
        dest="action", required=True, metavar="ACTION")
    p = rram_actions.add_parser("prune", help="run every pruning method on one model; write report.json/.md/.png",
                                description=__doc__, formatter_class=_HelpFormatter)
    p.add_argument("--model", required=True, metavar="{retriever,llm,PATH}",
                   help="'retriever' (packaged all-MiniLM-L6-v2), 'llm' (packaged SmolLM2-135M-Instruct), or a path: "
                        "a sentence-transformers directory (with modules.json) is a retriever, a HF causal LM "
                        "directory or .gguf file an LLM")
    p.add_argument("--out", type=Path, required=True, help="directory for report.json, report.md, pareto.png")
    p.add_argument("--split", default=DEFAULTS["split"],
                   help="evaluation split where settings are chosen: the retriever's task samples, the LLM's ReDial "
                        "dialogues")
    p.add_argument("--report-split", default=None,
                   help="also measure the dense reference and every result within --tolerance on this split (e.g. test)")
    p.add_argument("--seed", type=int, default=DEFAULTS["seed"], help="order of the training and calibration batches; dropout")
    p.add_argument("--budget", type=float, default=None, metavar="MINUTES",
                   help="start no new method after this many minutes; rerun the same command to go on")
    _add_method_flags(p)
    r = p.add_argument_group("retriever only")
    r.add_argument("--dataset", choices=DATASETS, default=DEFAULTS["dataset"], help="task of the evaluation and training pairs")
    r.add_argument("--protocol", choices=PROTOCOLS, default=DEFAULTS["protocol"])
    r.add_argument("--metric", default=DEFAULTS["metric"], help="harness metric used as the accuracy")
    m = p.add_argument_group("llm only")
    m.add_argument("--window", type=int, default=DEFAULTS["window"], help="tokens per perplexity and training window")
    m.add_argument("--eval-windows", type=int, default=DEFAULTS["eval_windows"], help="held-out windows for perplexity")
    m.add_argument("--include-head", action="store_true", help="also map the tied 49152x576 output head")
    add_scale_options(p, "the methods (one per shard, after the dense reference)")
    p.set_defaults(run=cmd_prune)


class _HelpFormatter(HelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults shown, description kept as written."""


def _add_method_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("crossbar")
    g.add_argument("--rows", type=int, default=DEFAULTS["rows"], help="crossbar rows = group size")
    g.add_argument("--cols", type=int, default=DEFAULTS["cols"], help="crossbar columns")
    g.add_argument("--bits-per-cell", type=int, default=DEFAULTS["bits_per_cell"], help="bits stored per cell: 1, 2 or 4")
    g.add_argument("--encoding", choices=["differential", "offset"], default=DEFAULTS["encoding"])
    g.add_argument("--dac-bits", type=int, default=DEFAULTS["dac_bits"])
    g.add_argument("--technology", choices=sorted(rram.TECHNOLOGIES), default=DEFAULTS["technology"], help="cost constant set")
    g.add_argument("--input-bits", type=int, default=DEFAULTS["input_bits"], help="input (activation) bits fed bit-serially through the DACs")
    g.add_argument("--skip-zero-slices", action="store_true",
                   help="bit-slice sparsity: each weight slice on crossbars of its own; all-zero digit blocks, rows "
                        "and columns are not programmed, driven or converted")
    m = p.add_argument_group("methods and sweeps")
    m.add_argument("--weight-bits", type=int, default=DEFAULTS["weight_bits"])
    m.add_argument("--key-bits", type=_ints, default=DEFAULTS["key_bits"], help="comma-separated key bits to sweep, ours and plain quantization")
    m.add_argument("--sparsity", type=_floats, default=DEFAULTS["sparsity"], help="comma-separated sparsities to sweep for the pruning baselines")
    m.add_argument("--prune-fraction", type=_floats, default=DEFAULTS["prune_fraction"], help="comma-separated extra group-pruning fractions for ours")
    m.add_argument("--scales", choices=["integer", "pow2"], default=DEFAULTS["scales"])
    m.add_argument("--mixed-bits", type=_ints, default=DEFAULTS["mixed_bits"],
                   help="key-bit choices per layer for the mixed-precision runs (3 bits wrecked the retriever's layers "
                        "that the weight-space sensitivity let drop there: docs/results/rram.md)")
    m.add_argument("--mixed-budget", "--mixed", type=_floats, default=DEFAULTS["mixed_budget"],
                   help="comma-separated crossbar budgets, as fractions of dense 8-bit crossbars, for mixed-precision "
                        "runs: each layer's key bits chosen greedily by its importance-weighted (Hessian-diagonal, with "
                        "--calibrate) reconstruction error per extra crossbar; none by default")
    m.add_argument("--mixed-families", default=DEFAULTS["mixed_families"],
                   help="comma-separated key-code families given the mixed-precision lever (e.g. reconstruct,gptq-mse: "
                        "the same lever for ours and GPTQ)")
    m.add_argument("--methods", "--families", default=DEFAULTS["methods"],
                   help="comma-separated families (see above), or all (dense always runs)")
    m.add_argument("--tolerance", type=float, default=None,
                   help="equal accuracy = within this fraction of dense (relative); sets each method's operating point")
    t = p.add_argument_group("retraining")
    t.add_argument("--steps", type=int, default=DEFAULTS["steps"], help="progressive-retraining steps per method (0 = none)")
    t.add_argument("--lr", type=float, default=DEFAULTS["lr"])
    t.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"], help="(query, document) pairs per retriever training batch")
    t.add_argument("--schedule", choices=["linear", "cosine"], default=DEFAULTS["schedule"])
    t.add_argument("--calibrate", type=int, default=DEFAULTS["calibrate"],
                   help="training batches for each layer's input statistics: the importance (mean squared input per "
                        "row) that weights ours' scale search and the pruning masks, and the Hessian of the +gptq "
                        "families (0 = unweighted, and no +gptq families)")
    t.add_argument("--no-retrain-dense", action="store_true", help="do not give the dense reference the same retraining budget")
    p.add_argument("--skip-float", action="store_true", help="do not evaluate the unconverted float model")


def cmd_prune(args) -> None:
    config = PruneConfig.from_args(args)
    report = prune(config, build_task(config), method_configs(config))
    for f in render.write_all(report, config.out).values():
        print(f"wrote {f}")
    if report.meta.get("not_run"):
        print(f"budget spent: {', '.join(report.meta['not_run'])} not run; rerun the same command to go on")
    print(render.frontier_markdown(report))
