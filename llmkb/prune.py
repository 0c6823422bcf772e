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
import functools
import itertools
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import rram
from llmkb.errors import LLMKBError
from llmkb.scale.options import add_scale_options, cluster_of, portable
from rram import mixed, render
from rram.experiment import FAMILIES, cached_result, evaluate_method, save_result
from rram.files import atomic_write

MODELS = ("retriever", "llm")
LLM_TRAIN_DIALOGUES = 400  # ReDial training dialogues turned into training windows


@dataclass
class Task:
    """One model ready for ``rram.run_methods``: its evaluation, retraining loss and batches, and report labels."""

    model: object
    evaluate: Callable
    loss_fn: Callable
    train_batches: Callable[[int], list]  # n → up to n training batches
    name: str
    metric: str
    higher_is_better: bool
    exclude: list[str] | None
    meta: dict = field(default_factory=dict)
    report_evaluate: Callable | None = None  # the same evaluation on --report-split


# ---- command line ------------------------------------------------------------------------------------------


def _ints(s: str) -> list[int]:
    return [int(x) for x in s.split(",") if x]


def _floats(s: str) -> list[float]:
    return [float(x) for x in s.split(",") if x]


def add_rram_commands(commands) -> None:
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
    p.add_argument("--split", default="valid",
                   help="evaluation split where settings are chosen: the retriever's task samples, the LLM's ReDial "
                        "dialogues")
    p.add_argument("--report-split", default=None,
                   help="also measure the dense reference and every result within --tolerance on this split (e.g. test)")
    p.add_argument("--seed", type=int, default=0, help="order of the training and calibration batches; dropout")
    p.add_argument("--budget", type=float, default=None, metavar="MINUTES",
                   help="start no new method after this many minutes; rerun the same command to go on")
    _add_method_flags(p)
    r = p.add_argument_group("retriever only")
    r.add_argument("--dataset", choices=["inspired", "redial"], default="inspired", help="task of the evaluation and training pairs")
    r.add_argument("--protocol", choices=["std", "dedup"], default="std")
    r.add_argument("--metric", default="recall@50", help="harness metric used as the accuracy")
    m = p.add_argument_group("llm only")
    m.add_argument("--window", type=int, default=256, help="tokens per perplexity and training window")
    m.add_argument("--eval-windows", type=int, default=64, help="held-out windows for perplexity")
    m.add_argument("--include-head", action="store_true", help="also map the tied 49152x576 output head")
    add_scale_options(p, "the methods (one per shard, after the dense reference)")
    p.set_defaults(run=cmd_prune)


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults shown, description kept as written."""


def _add_method_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("crossbar")
    g.add_argument("--rows", type=int, default=128, help="crossbar rows = group size")
    g.add_argument("--cols", type=int, default=128, help="crossbar columns")
    g.add_argument("--bits-per-cell", type=int, default=2, help="bits stored per cell: 1, 2 or 4")
    g.add_argument("--encoding", choices=["differential", "offset"], default="differential")
    g.add_argument("--dac-bits", type=int, default=1)
    g.add_argument("--technology", choices=sorted(rram.TECHNOLOGIES), default="isaac32", help="cost constant set")
    g.add_argument("--input-bits", type=int, default=8, help="input (activation) bits fed bit-serially through the DACs")
    g.add_argument("--skip-zero-slices", action="store_true",
                   help="bit-slice sparsity: each weight slice on crossbars of its own; all-zero digit blocks, rows "
                        "and columns are not programmed, driven or converted")
    m = p.add_argument_group("methods and sweeps")
    m.add_argument("--weight-bits", type=int, default=8)
    m.add_argument("--key-bits", type=_ints, default=[4], help="comma-separated key bits to sweep, ours and plain quantization")
    m.add_argument("--sparsity", type=_floats, default=[0.5], help="comma-separated sparsities to sweep for the pruning baselines")
    m.add_argument("--prune-fraction", type=_floats, default=[0.0], help="comma-separated extra group-pruning fractions for ours")
    m.add_argument("--scales", choices=["integer", "pow2"], default="integer")
    m.add_argument("--mixed-bits", type=_ints, default=[5, 7],
                   help="key-bit choices per layer for the mixed-precision runs (3 bits wrecked the retriever's layers "
                        "that the weight-space sensitivity let drop there: docs/RESULTS.md)")
    m.add_argument("--mixed-budget", "--mixed", type=_floats, default=[],
                   help="comma-separated crossbar budgets, as fractions of dense 8-bit crossbars, for mixed-precision "
                        "runs: each layer's key bits chosen greedily by its importance-weighted (Hessian-diagonal, with "
                        "--calibrate) reconstruction error per extra crossbar; none by default")
    m.add_argument("--mixed-families", default="reconstruct",
                   help="comma-separated key-code families given the mixed-precision lever (e.g. reconstruct,gptq-mse: "
                        "the same lever for ours and GPTQ)")
    m.add_argument("--methods", "--families", default="all",
                   help="comma-separated families (see above), or all (dense always runs)")
    m.add_argument("--tolerance", type=float, default=None,
                   help="equal accuracy = within this fraction of dense (relative); sets each method's operating point")
    t = p.add_argument_group("retraining")
    t.add_argument("--steps", type=int, default=0, help="progressive-retraining steps per method (0 = none)")
    t.add_argument("--lr", type=float, default=1e-5)
    t.add_argument("--batch-size", type=int, default=8, help="(query, document) pairs per retriever training batch")
    t.add_argument("--schedule", choices=["linear", "cosine"], default="linear")
    t.add_argument("--calibrate", type=int, default=4,
                   help="training batches for each layer's input statistics: the importance (mean squared input per "
                        "row) that weights ours' scale search and the pruning masks, and the Hessian of the +gptq "
                        "families (0 = unweighted, and no +gptq families)")
    t.add_argument("--no-retrain-dense", action="store_true", help="do not give the dense reference the same retraining budget")
    p.add_argument("--skip-float", action="store_true", help="do not evaluate the unconverted float model")


def method_configs(args) -> dict[str, rram.RRAMConfig]:
    """The swept configs the flags ask for (mixed-precision runs excepted: they need the model)."""
    families = list(FAMILIES) if args.methods == "all" else [f for f in args.methods.split(",") if f != "dense"]
    unknown = set(families) - set(FAMILIES)
    if unknown:
        raise LLMKBError(f"unknown --methods {sorted(unknown)}; choose from {', '.join(FAMILIES)} or all")
    compensated = [f for f in families if FAMILIES[f].get("compensate")]
    if compensated and args.calibrate <= 0:
        raise LLMKBError(f"--methods {','.join(compensated)} need each layer's input Hessian: pass --calibrate N "
                         "(training batches, e.g. 4), or leave those families out")
    try:
        xbar = rram.CrossbarConfig(rows=args.rows, cols=args.cols, bits_per_cell=args.bits_per_cell,
                                   encoding=args.encoding, dac_bits=args.dac_bits, input_bits=args.input_bits,
                                   skip_zero_slices=args.skip_zero_slices)
        return rram.sweep_configs(key_bits=args.key_bits, sparsities=args.sparsity, methods=families,
                                  prune_fractions=args.prune_fraction, weight_bits=args.weight_bits, crossbar=xbar,
                                  technology=args.technology, scales=args.scales)
    except ValueError as exc:  # e.g. --key-bits 9 with --weight-bits 8
        raise LLMKBError(f"invalid method or crossbar flags: {exc}") from exc


def mixed_families(args) -> dict[str, rram.RRAMConfig]:
    """{family: its config at the fewest ``--mixed-bits``} for each of ``--mixed-families`` (the mixed runs' bases)."""
    out, xbar = {}, None
    for fam in (f for f in args.mixed_families.split(",") if f):
        if fam not in FAMILIES or FAMILIES[fam]["method"] not in rram.methods.KEY_METHODS:
            keyed = [f for f, kw in FAMILIES.items() if kw["method"] in rram.methods.KEY_METHODS]
            raise LLMKBError(f"--mixed-families {fam}: mixed key bits need a key-code family: {', '.join(keyed)}")
        if FAMILIES[fam].get("compensate") and args.calibrate <= 0:
            raise LLMKBError(f"--mixed-families {fam} needs each layer's input Hessian: pass --calibrate N")
        xbar = xbar or method_configs(args)["dense"].crossbar  # the flags' crossbar, checked there; built once
        out[fam] = rram.RRAMConfig.build(**FAMILIES[fam], key_bits=min(args.mixed_bits), weight_bits=args.weight_bits,
                                         crossbar=xbar, technology=args.technology, scales=args.scales)
    return out


def model_kind(model: str) -> tuple[str, Path | None]:
    """("retriever" or "llm", the model's path; None for the packaged one) of a ``--model`` value."""
    if model in MODELS:
        return model, None
    path = Path(model)
    if (path / "modules.json").is_file():
        return "retriever", path
    if path.suffix == ".gguf" and path.is_file() or (path / "config.json").is_file() or any(path.glob("*.gguf")):
        return "llm", path
    what = "does not exist" if not path.exists() else "is neither a sentence-transformers directory (modules.json) " \
                                                       "nor a HF causal LM directory (config.json) or .gguf file"
    raise LLMKBError(f"--model {model}: {what}; pass retriever, llm, or such a path")


def cmd_prune(args) -> None:
    configs = method_configs(args)
    report = prune(args, build_task(args), configs)
    for f in render.write_all(report, args.out).values():
        print(f"wrote {f}")
    if report.meta.get("not_run"):
        print(f"budget spent: {', '.join(report.meta['not_run'])} not run; rerun the same command to go on")
    print(render.frontier_markdown(report))


def build_task(args) -> Task:
    """The retriever's or the LLM's task, as ``--model`` names it."""
    kind, path = model_kind(args.model)
    return (retriever_task if kind == "retriever" else llm_task)(args, path)


def prune(args, task: Task, configs: dict, keep: dict | None = None) -> rram.Report:
    """Every config (plus the ``--mixed-budget`` runs) on copies of ``task.model``, with the same retraining budget;
    ``keep`` receives the converted models by label. Results are cached in ``--out``/results (a rerun resumes); with
    ``--workers`` the methods run on Ray workers, each building the model, its calibration and retraining once."""
    t0 = time.perf_counter()
    if getattr(args, "workers", None) and args.budget is not None:
        raise LLMKBError("--budget applies to one process; with --workers every method runs: leave one of them out")
    configs, options = sweep_setup(args, task, configs)
    _check_settings(args.out / "results", {**{k: v for k, v in vars(args).items() if k in RUN_SETTINGS},
                                            **{k: v for k, v in options.meta.items() if k != "command"}})
    with cluster_of(args) as cluster:
        if cluster:
            _run_on_workers(args, task, configs, options, cluster)
    report = rram.run_methods(task.model, task.evaluate, configs, options, keep)
    report.meta["seconds"] = time.perf_counter() - t0
    return report


def sweep_setup(args, task: Task, configs: dict) -> tuple[dict, rram.ExperimentOptions]:
    """The configs with the ``--mixed-budget`` runs added, and the options every method runs with: the calibration
    statistics (importance, Hessians) and the retraining from ``task``'s training batches."""
    rcfg = rram.RetrainConfig.for_steps(args.steps, args.lr, args.schedule) if args.steps > 0 else None
    retraining = rram.Retraining(task.loss_fn, task.train_batches(rcfg.steps), rcfg) if rcfg else None
    importance = hessians = None
    mixed_bases = mixed_families(args) if args.mixed_budget else {}
    if args.calibrate > 0:
        calib = task.train_batches(args.calibrate)
        compensated = any(c.method.compensate for c in [*mixed_bases.values(),
                                                         *(c for c in configs.values() if hasattr(c, "method"))])
        stats = rram.calibrate(task.model, lambda m: [task.loss_fn(m, b) for b in calib], exclude=task.exclude,
                               hessian=compensated)
        hessians = stats if compensated else None
        importance = {n: h.diagonal() for n, h in stats.items()} if compensated else stats
    configs = dict(configs)
    for base in mixed_bases.values():
        configs.update(mixed.budget_configs(task.model, base, args.mixed_bits, args.mixed_budget, exclude=task.exclude,
                                            importance=importance))
    options = rram.ExperimentOptions(
        model_name=task.name, metric=task.metric, higher_is_better=task.higher_is_better, exclude=task.exclude,
        importance=importance, hessians=hessians, retraining=retraining, retrain_dense=not args.no_retrain_dense,
        float_accuracy=not args.skip_float, tolerance=args.tolerance, seed=args.seed,
        report_evaluate=task.report_evaluate, cache_dir=args.out / "results",
        budget_seconds=None if args.budget is None else args.budget * 60,
        meta={"command": " ".join(sys.argv), "steps": args.steps, "lr": args.lr, "batch_size": args.batch_size,
              "schedule": args.schedule, "retrain_dense": bool(rcfg) and not args.no_retrain_dense,
              "calibration_batches": args.calibrate, "seed": args.seed, "report_split": args.report_split,
              **task.meta},
    )
    return configs, options


class SweepWorker:
    """In a Ray worker: the model, its evaluation, calibration and retraining built once from ``args``; then
    :meth:`run` converts, retrains and measures one method after another."""

    def __init__(self, args):
        self.task = build_task(args)
        self.configs, self.options = sweep_setup(args, self.task, method_configs(args))

    def run(self, names: list[tuple[str, float]]) -> list[dict]:
        """Each (method name, the dense reference's accuracy)'s result, as a dict."""
        return [asdict(evaluate_method(self.task.model, self.configs[name], self.task.evaluate, self.options, name,
                                       None, reference))
                for name, reference in names]


def _run_on_workers(args, task: Task, configs: dict, options: rram.ExperimentOptions, cluster) -> None:
    """Every method missing from the results cache on ``cluster``'s workers, one method per shard, after the dense
    reference (here, as one process runs it); each result is saved as it comes back."""
    from llmkb.scale import run_shards

    dense = cached_result(options, "dense", configs["dense"])
    if dense is None:
        dense = evaluate_method(task.model, configs["dense"], task.evaluate, options, "dense")
        save_result(options, dense)
    todo = [name for name in configs if name != "dense" and cached_result(options, name, configs[name]) is None]
    run_shards([(i, [(name, dense.accuracy)]) for i, name in enumerate(todo)],
               functools.partial(SweepWorker, portable(args)), "run", cluster,
               lambda i, results: save_result(options, rram.MethodResult(**results[0])), desc="methods",
               unit="method")


RUN_SETTINGS = ("model", "split", "dataset", "protocol", "metric", "include_head", "eval_windows")  # beside the meta


def _check_settings(cache: Path, settings: dict) -> None:
    """Results cached under ``cache`` are reused only by a run with the same settings."""
    path = cache / "settings.json"
    settings = json.loads(json.dumps(settings, default=str))
    if path.is_file() and json.loads(path.read_text()) != settings:
        old = json.loads(path.read_text())
        changed = sorted(k for k in set(old) | set(settings) if old.get(k) != settings.get(k))
        raise LLMKBError(f"{cache.parent} holds results of a run with other settings ({', '.join(changed)}): "
                         "pass another --out, or delete it to start over")
    atomic_write(path, json.dumps(settings, indent=1))


# ---- the two models ----------------------------------------------------------------------------------------


def retriever_task(args, path: Path | None) -> Task:
    from llmkb.models import default_retriever_path
    from llmkb.retrieval.retriever import load_encoder
    from rram.tasks.retriever import contrastive_loss, pair_batches

    name = f"all-MiniLM-L6-v2 ({default_retriever_path()})" if path is None else str(path)
    path = path or default_retriever_path()
    data_dir = getattr(args, "data_dir", None)
    evaluate = harness_recall(path, args.dataset, args.split, args.protocol, args.metric, args.out / "runs", data_dir)
    report_evaluate = None
    if args.report_split:
        report_evaluate = harness_recall(path, args.dataset, args.report_split, args.protocol, args.metric,
                                         args.out / f"runs-{args.report_split}", data_dir)

    def train_batches(n: int) -> list:
        pairs = query_document_pairs(args.dataset, "train", seed=args.seed, data_dir=data_dir)
        return pair_batches(pairs, args.batch_size)[:n]

    return Task(load_encoder(path).eval(), evaluate, contrastive_loss, train_batches, name,
                metric=f"{args.metric} ({args.dataset}-{args.protocol} {args.split})", higher_is_better=True,
                exclude=["*pooler*"], report_evaluate=report_evaluate,
                meta={"model_path": str(path), "dataset": args.dataset, "split": args.split, "protocol": args.protocol})


def llm_task(args, path: Path | None) -> Task:
    from llmkb.generation.llm import load_llm
    from rram.tasks.causal_lm import lm_loss, perplexity, token_windows

    model, tokenizer = load_llm(path)
    model.eval()
    data_dir = getattr(args, "data_dir", None)

    def held_out(split: str) -> list:
        windows = token_windows(tokenizer, dialogue_texts(split, None, data_dir), args.window, args.eval_windows)
        if not windows:
            raise LLMKBError(f"the ReDial {split} dialogues hold no full window of {args.window} tokens; "
                             "lower --window or pass another split")
        return windows

    windows = held_out(args.split)
    train_windows = token_windows(tokenizer, dialogue_texts("train", LLM_TRAIN_DIALOGUES, data_dir), args.window,
                                  10**9)
    random.Random(args.seed).shuffle(train_windows)
    meta = {"eval_windows": len(windows), "eval_tokens": sum(w.numel() for w in windows), "window": args.window,
            "split": args.split, "unit_accuracy": "exp_mean"}
    report_evaluate = None
    if args.report_split:
        report_windows = held_out(args.report_split)
        report_evaluate = perplexity(report_windows)
        meta["report_tokens"] = sum(w.numel() for w in report_windows)
    from llmkb.models import default_llm_path, reference_note

    meta["reference"] = reference_note(path or default_llm_path())  # a GGUF's "dense" is its dequantized weights
    name = "SmolLM2-135M-Instruct" if path is None else str(path)
    if meta["reference"] != "float weights":
        name += f" ({meta['reference']})"
    return Task(model, perplexity(windows), lm_loss, lambda n: train_windows[:n], name=name, metric="perplexity",
                higher_is_better=False, exclude=None if args.include_head else ["lm_head"], meta=meta,
                report_evaluate=report_evaluate)


# ---- task data from llmkb ------------------------------------------------------------------------------------


def dialogue_texts(split: str, limit: int | None, data_dir: str | Path | None = None) -> list[str]:
    """The first ``limit`` (None: all) ReDial dialogues of ``split``, one "role: text" line per turn."""
    from llmkb.data import load_dataset

    dialogues = load_dataset("redial", data_dir).dialogues(split)[:limit]
    return ["\n".join(f"{t.role}: {t.text}" for t in d.turns) for d in dialogues]


def query_document_pairs(dataset_name: str = "inspired", split: str = "train", seed: int = 0,
                         data_dir: str | Path | None = None) -> list[tuple[str, str]]:
    """(query text, gold KB document text) pairs, one per (sample, gold), shuffled (the retriever's training data)."""
    from llmkb.data import load_dataset
    from llmkb.kb import build_kb, load_kb
    from llmkb.retrieval import QueryBuilder

    dataset = load_dataset(dataset_name, data_dir)
    documents = load_kb(build_kb(dataset)[0])
    text = {doc.item_id: doc.text for doc in documents}
    builder = QueryBuilder.for_dataset(dataset, documents=documents)
    pairs = [(builder.build(s.context), text[g]) for s in dataset.samples(split, "std") for g in s.gold if g in text]
    random.Random(seed).shuffle(pairs)
    return pairs


def harness_recall(model_path: str | Path, dataset_name: str = "inspired", split: str = "valid",
                   protocol: str = "std", metric: str = "recall@50", out_dir: str | Path | None = None,
                   data_dir: str | Path | None = None) -> Callable:
    """evaluate(model) → {"accuracy": metric, every harness metric, and "units": the metric per sample where it has
    one}, ranking with ``model`` as the encoder.

    The harness writes each run's predictions and report under ``out_dir`` (default: a temporary folder).
    """
    from llmkb.data import load_dataset
    from llmkb.evaluation.harness import Run, evaluate as run_harness
    from llmkb.evaluation.systems import Dense
    from llmkb.kb import build_kb, load_kb
    from llmkb.retrieval import DenseRetriever, QueryBuilder
    from llmkb.retrieval.retriever import MAX_SEQ_LENGTH

    dataset = load_dataset(dataset_name, data_dir)
    documents = load_kb(build_kb(dataset)[0])
    builder = QueryBuilder.for_dataset(dataset, documents=documents)
    out = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="rram-harness-"))
    counter = itertools.count()

    def evaluate(model) -> dict:
        model.max_seq_length = MAX_SEQ_LENGTH
        system = Dense(DenseRetriever(model, Path(model_path), documents, builder, cache_dir=None, progress=False))
        run = Run(dataset=dataset_name, protocol=protocol, split=split, system="retriever-rram",
                  models={"retriever": str(model_path)})
        i = next(counter)
        res = run_harness(dataset, run, system, out / f"run{i:02d}.predictions.jsonl", out / f"run{i:02d}.report.json",
                          progress=False)
        if metric not in res["metrics"]:
            raise LLMKBError(f"--metric {metric!r} is not a harness metric; choose from {', '.join(res['metrics'])}")
        units = [m[metric] for m in res["per_sample"]] if metric in res["per_sample"][0] else None
        return {"accuracy": res["metrics"][metric], **res["metrics"], **({"units": units} if units else {})}

    return evaluate
