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
from collections.abc import Callable, Iterable
from datetime import datetime, timezone

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

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


def evaluate_method(
    base: nn.Module,
    config: RRAMConfig,
    evaluate: Callable[[nn.Module], float],
    include: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
    importance: dict[str, Tensor] | None = None,
    retrain_with: tuple[Callable, Iterable, RetrainConfig] | None = None,
    name: str = "",
) -> MethodResult:
    """Convert a copy of ``base``, optionally retrain it, measure accuracy and cost."""
    t0 = time.perf_counter()
    model = convert(copy.deepcopy(base), config, include, exclude, importance)
    losses = None
    if retrain_with is not None and config.method.name != "dense":
        loss_fn, batches, rcfg = retrain_with
        losses = retrain(model, loss_fn, batches, rcfg)
    model.eval()
    maps = layer_maps(model)
    cost = model_cost(model, maps=maps)
    with torch.no_grad():
        acc = evaluate(model)
    summary = cost.summary()
    summary["programmed_cells"] = sum(m.programmed_cells for m in maps)
    layers = [{**m.to_dict(), "adc_bits_max": m.adc_bits_max, **c.to_dict()} for m, c in zip(maps, cost.layers)]
    extra = {"seconds": time.perf_counter() - t0}
    if losses:
        extra.update(retrain_first_loss=losses[0], retrain_last_loss=losses[-1], retrain_steps=len(losses))
    return MethodResult(name=name or config.method.name, accuracy=acc, cost=summary, layers=layers,
                        config=config.to_dict(), extra=extra)


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
) -> Report:
    """One ``MethodResult`` per config (the "dense" entry is the reference for every ratio).

    float_accuracy: also record the unconverted model's accuracy in ``meta["float_accuracy"]``.
    """
    if "dense" not in configs:
        raise ValueError(f"configs need a 'dense' entry as the reference; got {sorted(configs)}")
    results = [
        evaluate_method(base, cfg, evaluate, include, exclude, importance, retrain_with, name)
        for name, cfg in tqdm(configs.items(), desc="methods")
    ]
    meta = dict(meta or {})
    meta.setdefault("date", datetime.now(timezone.utc).isoformat(timespec="seconds"))
    if float_accuracy:
        with torch.no_grad():
            meta["float_accuracy"] = evaluate(base)
    tech = next(iter(configs.values())).technology
    return Report(model=model_name, technology=tech, metric=metric, higher_is_better=higher_is_better,
                  results=results, meta=meta)
