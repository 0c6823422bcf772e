"""Weight-reconstruction pruning of PyTorch linear layers for simulated RRAM crossbar accelerators.

Reading order: reconstruct → methods/baselines → mapping → cost → nn (convert) → retrain → report.

Example::

    >>> import torch, rram
    >>> model = torch.nn.Sequential(torch.nn.Linear(256, 256))
    >>> model = rram.convert(model, rram.RRAMConfig.build(key_bits=4))
    >>> rram.model_cost(model, "isaac32").crossbars
    16
"""

from rram.cost import TECHNOLOGIES, CostConstants, ModelCost, isaac32, mnsim130, neurosim22, neurram130, technology
from rram.mapping import CrossbarConfig, LayerMap, map_layer
from rram.methods import METHODS, MethodConfig
from rram.nn import (
    CrossbarLinear,
    RRAMConfig,
    calibrate,
    convert,
    crossbar_modules,
    layer_maps,
    load_converted,
    model_cost,
    save_converted,
    select_linears,
)
from rram.reconstruct import ReconstructConfig, Reconstruction, reconstruct

__all__ = [
    "METHODS",
    "TECHNOLOGIES",
    "CostConstants",
    "CrossbarConfig",
    "CrossbarLinear",
    "LayerMap",
    "MethodConfig",
    "ModelCost",
    "RRAMConfig",
    "ReconstructConfig",
    "Reconstruction",
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
    "save_converted",
    "select_linears",
    "technology",
]
