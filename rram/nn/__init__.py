"""Model surgery: ``convert`` swaps nn.Linear for ``CrossbarLinear``; see ``rram.nn.convert``."""

from rram.nn.config import RRAMConfig
from rram.nn.convert import (
    calibrate,
    convert,
    crossbar_modules,
    layer_maps,
    load_converted,
    model_cost,
    save_converted,
    select_linears,
)
from rram.nn.linear import CrossbarLinear

__all__ = [
    "CrossbarLinear",
    "RRAMConfig",
    "calibrate",
    "convert",
    "crossbar_modules",
    "layer_maps",
    "load_converted",
    "model_cost",
    "save_converted",
    "select_linears",
]
