"""Every method of one ``PruneConfig`` on copies of one model, with the same crossbar and retraining budget.

Dense plus every method family (``rram.experiment.sweep_configs``) at every swept setting, and the mixed-precision
runs; each result is saved under ``config.out``/results as it finishes, so a rerun resumes (and only a run with the
same settings may reuse them). With ``config.workers`` the methods run on Ray workers, one method per shard.

>>> sorted(method_configs(PruneConfig(model="llm", out=Path("o"), methods="gptq", key_bits=(4,))))
['dense', 'gptq-4b']
"""

from __future__ import annotations

import functools
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import rram
from llmkb.errors import LLMKBError
from llmkb.prune.config import PruneConfig
from llmkb.prune.tasks import Task, build_task
from llmkb.scale.options import cluster_of
from rram import mixed
from rram.experiment import FAMILIES, cached_result, evaluate_method, save_result
from rram.files import atomic_write


def method_configs(config: PruneConfig) -> dict[str, rram.RRAMConfig]:
    """The swept configs ``config`` asks for (mixed-precision runs excepted: they need the model)."""
    families = list(FAMILIES) if config.methods == "all" else [f for f in config.methods.split(",") if f != "dense"]
    unknown = set(families) - set(FAMILIES)
    if unknown:
        raise LLMKBError(f"unknown --methods {sorted(unknown)}; choose from {', '.join(FAMILIES)} or all")
    compensated = [f for f in families if FAMILIES[f].get("compensate")]
    if compensated and config.calibrate <= 0:
        raise LLMKBError(f"--methods {','.join(compensated)} need each layer's input Hessian: pass --calibrate N "
                         "(training batches, e.g. 4), or leave those families out")
    try:
        xbar = rram.CrossbarConfig(rows=config.rows, cols=config.cols, bits_per_cell=config.bits_per_cell,
                                   encoding=config.encoding, dac_bits=config.dac_bits, input_bits=config.input_bits,
                                   skip_zero_slices=config.skip_zero_slices)
        return rram.sweep_configs(key_bits=config.key_bits, sparsities=config.sparsity, methods=families,
                                  prune_fractions=config.prune_fraction, weight_bits=config.weight_bits, crossbar=xbar,
                                  technology=config.technology, scales=config.scales)
    except ValueError as exc:  # e.g. --key-bits 9 with --weight-bits 8
        raise LLMKBError(f"invalid method or crossbar flags: {exc}") from exc


def mixed_families(config: PruneConfig) -> dict[str, rram.RRAMConfig]:
    """{family: its config at the fewest ``--mixed-bits``} for each of ``--mixed-families`` (the mixed runs' bases)."""
    out, xbar = {}, None
    for fam in (f for f in config.mixed_families.split(",") if f):
        if fam not in FAMILIES or FAMILIES[fam]["method"] not in rram.methods.KEY_METHODS:
            keyed = [f for f, kw in FAMILIES.items() if kw["method"] in rram.methods.KEY_METHODS]
            raise LLMKBError(f"--mixed-families {fam}: mixed key bits need a key-code family: {', '.join(keyed)}")
        if FAMILIES[fam].get("compensate") and config.calibrate <= 0:
            raise LLMKBError(f"--mixed-families {fam} needs each layer's input Hessian: pass --calibrate N")
        xbar = xbar or method_configs(config)["dense"].crossbar  # the flags' crossbar, checked there; built once
        out[fam] = rram.RRAMConfig.build(**FAMILIES[fam], key_bits=min(config.mixed_bits), weight_bits=config.weight_bits,
                                         crossbar=xbar, technology=config.technology, scales=config.scales)
    return out


def prune(config: PruneConfig, task: Task, configs: dict[str, rram.RRAMConfig], keep: dict | None = None) -> rram.Report:
    """Every config (plus the ``--mixed-budget`` runs) on copies of ``task.model``, with the same retraining budget;
    ``keep`` receives the converted models by label. Results are cached in ``--out``/results (a rerun resumes); with
    ``--workers`` the methods run on Ray workers, each building the model, its calibration and retraining once."""
    t0 = time.perf_counter()
    if config.workers and config.budget is not None:
        raise LLMKBError("--budget applies to one process; with --workers every method runs: leave one of them out")
    configs, options = sweep_setup(config, task, configs)
    _check_settings(config.out / "results", {**{k: getattr(config, k) for k in RUN_SETTINGS},
                                            **{k: v for k, v in options.meta.items() if k != "command"}})
    with cluster_of(config) as cluster:
        if cluster:
            _run_on_workers(config, task, configs, options, cluster)
    report = rram.run_methods(task.model, task.evaluate, configs, options, keep)
    report.meta["seconds"] = time.perf_counter() - t0
    return report


def sweep_setup(config: PruneConfig, task: Task, configs: dict[str, rram.RRAMConfig]) -> tuple[dict, rram.ExperimentOptions]:
    """The configs with the ``--mixed-budget`` runs added, and the options every method runs with: the calibration
    statistics (importance, Hessians) and the retraining from ``task``'s training batches."""
    rcfg = rram.RetrainConfig.for_steps(config.steps, config.lr, config.schedule) if config.steps > 0 else None
    retraining = rram.Retraining(task.loss_fn, task.train_batches(rcfg.steps), rcfg) if rcfg else None
    importance = hessians = None
    mixed_bases = mixed_families(config) if config.mixed_budget else {}
    if config.calibrate > 0:
        calib = task.train_batches(config.calibrate)
        compensated = any(c.method.compensate for c in [*mixed_bases.values(),
                                                         *(c for c in configs.values() if hasattr(c, "method"))])
        stats = rram.calibrate(task.model, lambda m: [task.loss_fn(m, b) for b in calib], exclude=task.exclude,
                               hessian=compensated)
        hessians = stats if compensated else None
        importance = {n: h.diagonal() for n, h in stats.items()} if compensated else stats
    configs = dict(configs)
    for base in mixed_bases.values():
        configs.update(mixed.budget_configs(task.model, base, config.mixed_bits, config.mixed_budget, exclude=task.exclude,
                                            importance=importance))
    options = rram.ExperimentOptions(
        model_name=task.name, metric=task.metric, higher_is_better=task.higher_is_better, exclude=task.exclude,
        importance=importance, hessians=hessians, retraining=retraining, retrain_dense=not config.no_retrain_dense,
        float_accuracy=not config.skip_float, tolerance=config.tolerance, seed=config.seed,
        report_evaluate=task.report_evaluate, cache_dir=config.out / "results",
        budget_seconds=None if config.budget is None else config.budget * 60,
        meta={"command": " ".join(sys.argv), "steps": config.steps, "lr": config.lr, "batch_size": config.batch_size,
              "schedule": config.schedule, "retrain_dense": bool(rcfg) and not config.no_retrain_dense,
              "calibration_batches": config.calibrate, "seed": config.seed, "report_split": config.report_split,
              **task.meta},
    )
    return configs, options


class SweepWorker:
    """In a Ray worker: the model, its evaluation, calibration and retraining built once from ``config``; then
    :meth:`run` converts, retrains and measures one method after another."""

    def __init__(self, config: PruneConfig):
        self.task = build_task(config)
        self.configs, self.options = sweep_setup(config, self.task, method_configs(config))

    def run(self, names: list[tuple[str, float]]) -> list[dict]:
        """Each (method name, the dense reference's accuracy)'s result, as a dict."""
        return [asdict(evaluate_method(self.task.model, self.configs[name], self.task.evaluate, self.options, name,
                                       None, reference))
                for name, reference in names]


def _run_on_workers(config: PruneConfig, task: Task, configs: dict, options: rram.ExperimentOptions, cluster) -> None:
    """Every method missing from the results cache on ``cluster``'s workers, one method per shard, after the dense
    reference (here, as one process runs it); each result is saved as it comes back."""
    from llmkb.scale import run_shards

    dense = cached_result(options, "dense", configs["dense"])
    if dense is None:
        dense = evaluate_method(task.model, configs["dense"], task.evaluate, options, "dense")
        save_result(options, dense)
    todo = [name for name in configs if name != "dense" and cached_result(options, name, configs[name]) is None]
    run_shards([(i, [(name, dense.accuracy)]) for i, name in enumerate(todo)],
               functools.partial(SweepWorker, config.with_absolute_paths()), "run", cluster,
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
