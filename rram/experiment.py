"""Run every method on copies of one model and collect a ``Report`` (the logic behind ``llmkb rram prune``).

``configs`` maps a run label to one ``RRAMConfig`` or to per-layer configs ``{name glob: RRAMConfig}``
(e.g. from ``rram.mixed.budget_configs``); everything else a run needs is in ``ExperimentOptions``.

Example::

    >>> import torch, rram
    >>> from rram.analysis import ratios
    >>> from rram.experiment import ExperimentOptions, run_methods
    >>> base = torch.nn.Sequential(torch.nn.Linear(256, 256))
    >>> x = torch.randn(8, 256)
    >>> score = lambda m: -float((m(x) - base(x)).pow(2).mean())
    >>> rep = run_methods(base, score, {"dense": rram.RRAMConfig.build("dense"), "reconstruct": rram.RRAMConfig()},
    ...                   ExperimentOptions(model_name="toy", metric="-mse"))
    >>> ratios(rep, "reconstruct")["compression_crossbars"]
    2.0
"""

from __future__ import annotations

import copy
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from rram.analysis import accuracy_bound, is_within
from rram.baselines import BLOCKS
from rram.files import atomic_write
from rram.nn.config import RRAMConfig
from rram.nn.convert import ConfigSpec, assign_configs, convert, layer_maps, model_cost
from rram.report import MethodResult, Report
from rram.retrain import Retraining


@dataclass
class ExperimentOptions:
    """Everything ``run_methods`` needs besides the model, the evaluation and the configs.

    model_name, metric, higher_is_better: what the report says it measured. include / exclude: module
    name globs to convert. importance: per-layer input-row weights (``rram.calibrate``); hessians: per-layer
    input XᵀX (``rram.calibrate(..., hessian=True)``) for the compensated families. retraining: the
    same budget for every method (None = none). retrain_dense: give the dense reference that budget too
    (fine-tuning with its 8-bit rounding residual decayed), so that ratios and accuracy changes are not
    confounded by fine-tuning. float_accuracy: also record the unconverted model's accuracy in
    ``meta["float_accuracy"]``. tolerance, relative_tolerance: "equal accuracy" for the report's operating
    points (``rram.analysis``). seed: torch's random state during each method's retraining (dropout), so that
    runs repeat and every method sees the same dropout masks; None draws from the caller's random state.
    meta: extra entries for ``Report.meta``. report_evaluate: a second evaluation (e.g. on the test split, where
    results are reported after the settings were chosen on ``evaluate``'s split), run for the reference and
    for every result within tolerance of it; kept in ``extra["report"]``. cache_dir: each result is saved
    there as it finishes and read back instead of re-run (so an interrupted run resumes). budget_seconds:
    no method but the reference starts after this much wall time; those left are named in ``meta["not_run"]``.
    """

    model_name: str = "model"
    metric: str = "accuracy"
    higher_is_better: bool = True
    include: list[str] | None = None
    exclude: list[str] | None = None
    importance: dict[str, Tensor] | None = None
    hessians: dict[str, Tensor] | None = None
    retraining: Retraining | None = None
    retrain_dense: bool = False
    float_accuracy: bool = False
    tolerance: float | None = None
    relative_tolerance: bool = True
    seed: int | None = 0
    meta: dict = field(default_factory=dict)
    report_evaluate: Callable[[nn.Module], object] | None = None
    cache_dir: Path | None = None
    budget_seconds: float | None = None


def standard_configs(key_bits: int = 4, sparsity: float = 0.5, **kwargs) -> dict[str, RRAMConfig]:
    """Ours plus every baseline of RRAM.md §2 with the same crossbar settings."""
    names = {
        "dense": "dense", f"quantize-{key_bits}b": "quantize", "reconstruct": "reconstruct",
        f"magnitude-{sparsity:g}": "magnitude", f"row-{sparsity:g}": "row",
        f"column-{sparsity:g}": "column", f"block-{sparsity:g}": "block",
    }
    return {label: RRAMConfig.build(method=m, key_bits=key_bits, sparsity=sparsity, **kwargs) for label, m in names.items()}


FAMILIES = {  # family → its method's keywords for RRAMConfig.build
    "reconstruct": {"method": "reconstruct"}, "reconstruct+gptq": {"method": "reconstruct", "compensate": True},
    "quantize": {"method": "quantize"}, "group": {"method": "group"}, "gptq": {"method": "group", "compensate": True},
    "gptq-mse": {"method": "group", "compensate": True, "clip_search": True},
    **{b: {"method": b} for b in BLOCKS},
}
DEFAULT_FAMILIES = ("reconstruct", "quantize", *BLOCKS)


def sweep_configs(
    key_bits: Iterable[int] = (4,), sparsities: Iterable[float] = (0.5,), methods: Iterable[str] | None = None,
    prune_fractions: Iterable[float] = (0.0,), **kwargs,
) -> dict[str, RRAMConfig]:
    """Dense plus every method family at every setting, for finding each family's operating point at equal accuracy.

    Labels: ``dense``, ``reconstruct-4b`` (``reconstruct-4b-p0.25`` with a prune fraction), ``reconstruct+gptq-4b``,
    ``quantize-4b``, ``group-4b``, ``gptq-4b``, ``gptq-mse-4b``, ``magnitude-0.5``, ``row-0.5``, ``column-0.5``, ``block-0.5``.
    methods: families to run (``FAMILIES``; default ``DEFAULT_FAMILIES``, which need no Hessians).
    """
    fams = list(methods) if methods is not None else list(DEFAULT_FAMILIES)
    unknown = set(fams) - set(FAMILIES)
    if unknown:
        raise ValueError(f"unknown method families {sorted(unknown)}; choose from {', '.join(FAMILIES)}")
    out = {"dense": RRAMConfig.build(method="dense", **kwargs)}
    for b in key_bits:
        for fam in (f for f in FAMILIES if f in fams and FAMILIES[f]["method"] not in BLOCKS):
            for pf in prune_fractions if FAMILIES[fam]["method"] == "reconstruct" else (0.0,):
                label = f"{fam}-{b}b" + (f"-p{pf:g}" if pf else "")
                out[label] = RRAMConfig.build(**FAMILIES[fam], key_bits=b, prune_fraction=pf, **kwargs)
    for name in BLOCKS:
        if name in fams:
            for s in sparsities:
                out[f"{name}-{s:g}"] = RRAMConfig.build(method=name, sparsity=s, **kwargs)
    return out


def config_dict(config: ConfigSpec) -> dict:
    """JSON form of a run's config; per-layer configs: the most common one, plus ``patterns``: what each changes.

    >>> from rram.mixed import layer_configs
    >>> d = config_dict(layer_configs(RRAMConfig(), {"a": 4, "b": 4, "c": 6}))
    >>> d["method"]["reconstruct"]["key_bits"], d["patterns"]["c"]
    (4, {'method.block_outputs': 21, 'method.reconstruct.key_bits': 6})
    """
    if isinstance(config, RRAMConfig):
        return config.to_dict()
    base = Counter(config.values()).most_common(1)[0][0].to_dict()
    return {**base, "patterns": {p: _changes(base, c.to_dict()) for p, c in config.items()}}


def _changes(base: dict, other: dict, prefix: str = "") -> dict:
    """Dotted keys whose values differ between two nested dicts, with ``other``'s values."""
    out = {}
    for k in sorted(other):
        if isinstance(other[k], dict) and isinstance(base.get(k), dict):
            out.update(_changes(base[k], other[k], f"{prefix}{k}."))
        elif base.get(k) != other[k]:
            out[prefix + k] = other[k]
    return out


def split_metrics(value) -> tuple[float, dict]:
    """(accuracy, other metrics) from an evaluation result: a number, or a mapping with "accuracy" (and
    optionally "units", the per-sample or per-window scores the accuracy averages)."""
    if isinstance(value, Mapping):
        rest = {k: v for k, v in value.items() if k != "accuracy"}
        return float(value["accuracy"]), rest
    return float(value), {}


def _evaluation(evaluate: Callable[[nn.Module], object], model: nn.Module) -> dict:
    """{"accuracy", "seconds", and "metrics" / "units" when the evaluation gives them}."""
    t0 = time.perf_counter()
    with torch.no_grad():
        acc, metrics = split_metrics(evaluate(model))
    out = {"accuracy": acc, "seconds": time.perf_counter() - t0}
    if "units" in metrics:
        out["units"] = list(metrics.pop("units"))
    if metrics:
        out["metrics"] = metrics
    return out


def evaluate_method(
    base: nn.Module, config: ConfigSpec, evaluate: Callable[[nn.Module], float],
    options: ExperimentOptions | None = None, name: str = "", keep: dict[str, nn.Module] | None = None,
    reference: float | None = None,
) -> MethodResult:
    """Convert a copy of ``base``, optionally retrain it, measure accuracy and cost.

    ``evaluate`` returns the accuracy, or a mapping with an ``"accuracy"`` entry and further metrics
    (kept in ``extra["metrics"]``; per-unit scores "units" in ``extra["units"]``). ``keep``: where to put
    the converted model (under ``name``), to use it after. reference: the reference's accuracy, for
    deciding whether ``options.report_evaluate`` runs (None: this is the reference).
    """
    o = options or ExperimentOptions()
    t0, cpu0 = time.perf_counter(), time.process_time()
    configs = assign_configs(base, config, o.include, o.exclude)
    model = convert(copy.deepcopy(base), configs, importance=o.importance, hessians=o.hessians)
    losses = None
    extra: dict = {}
    if o.retraining is not None and (o.retrain_dense or any(c.method.name != "dense" for c in configs.values())):
        t1 = time.perf_counter()
        with torch.random.fork_rng(devices=[]):
            if o.seed is not None:
                torch.manual_seed(o.seed)
            losses = o.retraining.run(model)
        extra["retrain_seconds"] = time.perf_counter() - t1
    model.eval()
    maps = layer_maps(model)
    cost = model_cost(model, maps=maps)
    ev = _evaluation(evaluate, model)
    acc = ev.pop("accuracy")
    extra["eval_seconds"] = ev.pop("seconds")
    extra.update(ev)
    if o.report_evaluate is not None and (reference is None or _within(acc, reference, o)):
        extra["report"] = _evaluation(o.report_evaluate, model)
    summary = cost.summary()
    summary["programmed_cells"] = sum(m.programmed_cells for m in maps)
    layers = [{**m.to_dict(), "adc_bits_max": m.adc_bits_max, **c.to_dict()} for m, c in zip(maps, cost.layers)]
    extra["seconds"] = time.perf_counter() - t0
    extra["cpu_seconds"] = time.process_time() - cpu0
    if losses:
        extra.update(retrain_first_loss=losses[0], retrain_last_loss=losses[-1], retrain_steps=len(losses))
    first = next(iter(configs.values()))
    if keep is not None:
        keep[name or first.method.name] = model
    return MethodResult(name=name or first.method.name, accuracy=acc, cost=summary, layers=layers,
                        config=config_dict(config), extra=extra)


def _within(accuracy: float, reference: float, o: ExperimentOptions) -> bool:
    if o.tolerance is None:
        return True
    bound = accuracy_bound(reference, o.tolerance, o.relative_tolerance, o.higher_is_better)
    return is_within(accuracy, bound, o.higher_is_better)


def cached_result(o: ExperimentOptions, name: str, config: ConfigSpec) -> MethodResult | None:
    """``name``'s result saved in ``o.cache_dir`` (None when there is none); an error when it was another config's."""
    path = o.cache_dir / f"{name}.json" if o.cache_dir else None
    if path is None or not path.is_file():
        return None
    saved = json.loads(path.read_text())
    if saved["config"] != json.loads(json.dumps(config_dict(config))):
        raise ValueError(f"{path} holds a result of another config for {name!r}: delete it or use another cache_dir")
    return MethodResult(**saved)


def save_result(o: ExperimentOptions, result: MethodResult) -> None:
    """Keep ``result`` in ``o.cache_dir`` (atomically), where :func:`cached_result` finds it."""
    if o.cache_dir:
        atomic_write(o.cache_dir / f"{result.name}.json", json.dumps(asdict(result), indent=1, default=float))


def run_methods(
    base: nn.Module, evaluate: Callable[[nn.Module], float], configs: Mapping[str, ConfigSpec],
    options: ExperimentOptions | None = None, keep: dict[str, nn.Module] | None = None,
) -> Report:
    """One ``MethodResult`` per labelled config (the "dense" entry, run first, is the reference for every ratio);
    ``keep`` receives the converted models by label (results read from ``options.cache_dir`` have none)."""
    o = options or ExperimentOptions()
    if "dense" not in configs:
        raise ValueError(f"configs need a 'dense' entry as the reference; got {sorted(configs)}")
    start = time.perf_counter()
    results, not_run = [], []
    for name in (bar := tqdm(["dense", *(n for n in configs if n != "dense")], desc="methods")):
        bar.set_postfix_str(name)
        result = cached_result(o, name, configs[name])
        over = o.budget_seconds is not None and time.perf_counter() - start > o.budget_seconds
        if result is None and results and over:  # the reference always runs
            not_run.append(name)
            continue
        if result is None:
            reference = results[0].accuracy if results else None
            result = evaluate_method(base, configs[name], evaluate, o, name, keep, reference)
            save_result(o, result)
        results.append(result)
    meta = dict(o.meta)
    if not_run:
        meta["not_run"] = not_run
    meta.setdefault("date", datetime.now(timezone.utc).isoformat(timespec="seconds"))
    if o.float_accuracy:
        ev = _evaluation(evaluate, base)
        meta["float_accuracy"] = ev["accuracy"]
        if "metrics" in ev:
            meta["float_metrics"] = ev["metrics"]
    dense = configs["dense"]
    tech = (dense if isinstance(dense, RRAMConfig) else next(iter(dense.values()))).technology
    return Report(model=o.model_name, technology=tech, metric=o.metric, higher_is_better=o.higher_is_better,
                  results=results, meta=meta, tolerance=o.tolerance, relative_tolerance=o.relative_tolerance)
