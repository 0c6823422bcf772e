"""Model surgery: ``convert`` swaps nn.Linear for ``CrossbarLinear``, ``to_linear`` swaps back; see ``rram.nn.convert``."""

from rram.nn.config import RRAMConfig
from rram.nn.convert import (
    ConfigSpec,
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
from rram.nn.linear import CrossbarLinear

__all__ = [
    "ConfigSpec",
    "CrossbarLinear",
    "RRAMConfig",
    "assign_configs",
    "calibrate",
    "convert",
    "crossbar_modules",
    "layer_maps",
    "load_converted",
    "model_cost",
    "save_converted",
    "select_linears",
    "to_linear",
]
