"""Weight-reconstruction pruning of PyTorch linear layers for simulated RRAM crossbar accelerators.

Reading order: ``reconstruct`` (the method) → ``methods`` / ``baselines`` (every way to get programmed codes)
→ ``mapping`` (tiles on crossbars) → ``cost`` (energy, latency, area) → ``nn`` (``convert`` / ``to_linear``,
the ``CrossbarLinear`` module) → ``retrain`` → ``mixed`` (per-layer key bits) → ``report`` (data) →
``analysis`` (ratios, equal accuracy) → ``render`` (tables, plots) → ``experiment`` (every method on one model).
``rram.tasks`` adapts two kinds of model (sentence-transformer retrievers, causal LMs) to ``experiment``.

Example::

    >>> import torch, rram
    >>> model = torch.nn.Sequential(torch.nn.Linear(256, 256))
    >>> model = rram.convert(model, rram.RRAMConfig.build(key_bits=4))   # = rram.RRAMConfig(), the default
    >>> rram.model_cost(model, "isaac32").crossbars
    16
    >>> type(rram.to_linear(model)[0]).__name__
    'Linear'
"""

from rram.cost import TECHNOLOGIES, CostConstants, ModelCost, isaac32, mnsim130, neurosim22, neurram130, technology
from rram.experiment import ExperimentOptions, run_methods, standard_configs, sweep_configs
from rram.mapping import CrossbarConfig, LayerMap, map_layer
from rram.methods import METHODS, MethodConfig
from rram.nn import (
    ConfigSpec,
    CrossbarLinear,
    RRAMConfig,
    assign_configs,
    calibrate,
    convert,
    crossbar_modules,
    layer_maps,
    load_converted,
    model_cost,
    save_converted,
    select_linears,
    to_linear,
)
from rram.reconstruct import ReconstructConfig, Reconstruction, reconstruct
from rram.report import MethodResult, Report
from rram.retrain import RetrainConfig, Retraining, retrain

__all__ = [
    "METHODS",
    "TECHNOLOGIES",
    "ConfigSpec",
    "CostConstants",
    "CrossbarConfig",
    "CrossbarLinear",
    "ExperimentOptions",
    "LayerMap",
    "MethodConfig",
    "MethodResult",
    "ModelCost",
    "RRAMConfig",
    "ReconstructConfig",
    "Reconstruction",
    "Report",
    "RetrainConfig",
    "Retraining",
    "assign_configs",
    "calibrate",
    "convert",
    "crossbar_modules",
    "isaac32",
    "layer_maps",
    "load_converted",
    "map_layer",
    "mnsim130",
    "model_cost",
    "neurosim22",
    "neurram130",
    "reconstruct",
    "retrain",
    "run_methods",
    "save_converted",
    "select_linears",
    "standard_configs",
    "sweep_configs",
    "technology",
    "to_linear",
]
