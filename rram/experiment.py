"""Run every method on copies of one model and collect a ``Report`` (the logic behind the scripts).

Example::

    >>> import torch, rram
    >>> from rram.experiment import run_methods
    >>> base = torch.nn.Sequential(torch.nn.Linear(256, 256))
    >>> x = torch.randn(8, 256)
    >>> score = lambda m: -float((m(x) - base(x)).pow(2).mean())
    >>> rep = run_methods(base, score, {"dense": rram.RRAMConfig.build("dense"),
    ...                                 "reconstruct": rram.RRAMConfig.build()}, model_name="toy", metric="-mse")
    >>> rep.ratios("reconstruct")["compression_crossbars"]
    2.0
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from rram.baselines import BLOCKS
from rram.nn.config import RRAMConfig
from rram.nn.convert import convert, layer_maps, model_cost
from rram.report import MethodResult, Report
from rram.retrain import RetrainConfig, retrain


def standard_configs(key_bits: int = 4, sparsity: float = 0.5, **kwargs) -> dict[str, RRAMConfig]:
    """Ours plus every baseline of RRAM.md §2 with the same crossbar settings."""
    names = {
        "dense": "dense", f"quantize-{key_bits}b": "quantize", "reconstruct": "reconstruct",
        f"magnitude-{sparsity:g}": "magnitude", f"row-{sparsity:g}": "row",
        f"column-{sparsity:g}": "column", f"block-{sparsity:g}": "block",
    }
    return {label: RRAMConfig.build(method=m, key_bits=key_bits, sparsity=sparsity, **kwargs) for label, m in names.items()}


def sweep_configs(
    key_bits: Iterable[int] = (4,), sparsities: Iterable[float] = (0.5,), methods: Iterable[str] | None = None,
    prune_fractions: Iterable[float] = (0.0,), **kwargs,
) -> dict[str, RRAMConfig]:
    """Dense plus every method at every setting, for finding each method's operating point at equal accuracy.

    Labels: ``dense``, ``reconstruct-4b`` (``reconstruct-4b-p0.25`` with a prune fraction), ``quantize-4b``,
    ``magnitude-0.5``, ``row-0.5``, ``column-0.5``, ``block-0.5``. methods: families to run (default all).
    """
    fams = set(methods) if methods is not None else {"reconstruct", "quantize", *BLOCKS}
    out = {"dense": RRAMConfig.build(method="dense", **kwargs)}
    for b in key_bits:
        if "reconstruct" in fams:
            for pf in prune_fractions:
                label = f"reconstruct-{b}b" + (f"-p{pf:g}" if pf else "")
                out[label] = RRAMConfig.build(method="reconstruct", key_bits=b, prune_fraction=pf, **kwargs)
        if "quantize" in fams:
            out[f"quantize-{b}b"] = RRAMConfig.build(method="quantize", key_bits=b, **kwargs)
    for name in BLOCKS:
        if name in fams:
            for s in sparsities:
                out[f"{name}-{s:g}"] = RRAMConfig.build(method=name, sparsity=s, **kwargs)
    return out


def evaluate_method(
    base: nn.Module,
    config: RRAMConfig,
    evaluate: Callable[[nn.Module], float],
    include: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
    importance: dict[str, Tensor] | None = None,
    retrain_with: tuple[Callable, Iterable, RetrainConfig] | None = None,
    name: str = "",
    retrain_dense: bool = False,
) -> MethodResult:
    """Convert a copy of ``base``, optionally retrain it, measure accuracy and cost.

    ``evaluate`` returns the accuracy, or a mapping with an ``"accuracy"`` entry and further metrics
    (kept in ``extra["metrics"]``).
    """
    t0 = time.perf_counter()
    if hasattr(config, "apply"):  # rram.mixed.MixedConfig: per-layer key bits
        model = config.apply(copy.deepcopy(base), importance)
    else:
        model = convert(copy.deepcopy(base), config, include, exclude, importance)
    losses = None
    extra: dict = {}
    if retrain_with is not None and (retrain_dense or config.method.name != "dense"):
        loss_fn, batches, rcfg = retrain_with
        t1 = time.perf_counter()
        losses = retrain(model, loss_fn, batches, rcfg)
        extra["retrain_seconds"] = time.perf_counter() - t1
    model.eval()
    maps = layer_maps(model)
    cost = model_cost(model, maps=maps)
    t1 = time.perf_counter()
    with torch.no_grad():
        acc, metrics = split_metrics(evaluate(model))
    extra["eval_seconds"] = time.perf_counter() - t1
    if metrics:
        extra["metrics"] = metrics
    summary = cost.summary()
    summary["programmed_cells"] = sum(m.programmed_cells for m in maps)
    layers = [{**m.to_dict(), "adc_bits_max": m.adc_bits_max, **c.to_dict()} for m, c in zip(maps, cost.layers)]
    extra["seconds"] = time.perf_counter() - t0
    if losses:
        extra.update(retrain_first_loss=losses[0], retrain_last_loss=losses[-1], retrain_steps=len(losses))
    return MethodResult(name=name or config.method.name, accuracy=acc, cost=summary, layers=layers,
                        config=config.to_dict(), extra=extra)


def split_metrics(value) -> tuple[float, dict]:
    """(accuracy, other metrics) from an evaluation result: a number, or a mapping with "accuracy"."""
    if isinstance(value, Mapping):
        rest = {k: v for k, v in value.items() if k != "accuracy"}
        return float(value["accuracy"]), rest
    return float(value), {}


def run_methods(
    base: nn.Module,
    evaluate: Callable[[nn.Module], float],
    configs: dict[str, RRAMConfig],
    model_name: str,
    metric: str,
    higher_is_better: bool = True,
    include: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
    importance: dict[str, Tensor] | None = None,
    retrain_with: tuple[Callable, Iterable, RetrainConfig] | None = None,
    float_accuracy: bool = False,
    meta: dict | None = None,
    tolerance: float | None = None,
    relative_tolerance: bool = True,
    retrain_dense: bool = False,
) -> Report:
    """One ``MethodResult`` per config (the "dense" entry is the reference for every ratio).

    float_accuracy: also record the unconverted model's accuracy in ``meta["float_accuracy"]``.
    tolerance: "equal accuracy" for the report's operating points (``Report.operating_points``).
    retrain_dense: give the dense reference the same retraining budget (fine-tuning with its 8-bit
    rounding residual decayed), so that ratios and accuracy changes are not confounded by fine-tuning.
    """
    if "dense" not in configs:
        raise ValueError(f"configs need a 'dense' entry as the reference; got {sorted(configs)}")
    results = [
        evaluate_method(base, cfg, evaluate, include, exclude, importance, retrain_with, name, retrain_dense)
        for name, cfg in tqdm(configs.items(), desc="methods")
    ]
    meta = dict(meta or {})
    meta.setdefault("date", datetime.now(timezone.utc).isoformat(timespec="seconds"))
    if float_accuracy:
        with torch.no_grad():
            meta["float_accuracy"], float_metrics = split_metrics(evaluate(base))
        if float_metrics:
            meta["float_metrics"] = float_metrics
    tech = next(iter(configs.values())).technology
    return Report(model=model_name, technology=tech, metric=metric, higher_is_better=higher_is_better,
                  results=results, meta=meta, tolerance=tolerance, relative_tolerance=relative_tolerance)
