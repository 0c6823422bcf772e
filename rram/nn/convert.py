"""Model surgery: swap ``nn.Linear`` modules for ``CrossbarLinear`` and back, cost the result, save and load it.

The shape of torchao's ``quantize_(model, config)`` and aihwkit's ``convert_to_analog(model, rpu_config)``:
one call, one plain config (or one per name pattern), a name filter; the model is changed in place and
returned. ``to_linear`` is the inverse (aihwkit's ``convert_to_digital``): plain ``nn.Linear`` modules that
hold what the crossbars compute.

Example::

    >>> import torch
    >>> import rram
    >>> model = torch.nn.Sequential(torch.nn.Linear(256, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    >>> model = rram.convert(model, rram.RRAMConfig(), exclude=["2"])
    >>> [type(m).__name__ for m in model]
    ['CrossbarLinear', 'ReLU', 'Linear']
    >>> rram.model_cost(model).crossbars
    8
    >>> [type(m).__name__ for m in rram.to_linear(model)]
    ['Linear', 'ReLU', 'Linear']

One config per name pattern (the first matching pattern wins)::

    >>> model = torch.nn.Sequential(torch.nn.Linear(256, 256), torch.nn.Linear(256, 256))
    >>> model = rram.convert(model, {"0": rram.RRAMConfig.build(key_bits=6), "*": rram.RRAMConfig()})
    >>> [m.config.method.reconstruct.key_bits for m in model]
    [6, 4]
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from rram.cost import ModelCost, model_cost as _model_cost, technology
from rram.files import atomic_write
from rram.mapping import LayerMap
from rram.nn.config import RRAMConfig
from rram.nn.linear import CrossbarLinear

CONFIG_FILE = "rram_config.json"
STATE_FILE = "rram_state.pt"

ConfigSpec = RRAMConfig | Mapping[str, RRAMConfig]  # one config, or {module name glob: config}


def _matches(name: str, patterns: Iterable[str] | None) -> bool:
    return patterns is not None and any(fnmatch.fnmatchcase(name, p) for p in patterns)


def select_linears(model: nn.Module, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None) -> list[str]:
    """Names of ``nn.Linear`` modules matching any ``include`` glob (default all) and no ``exclude`` glob."""
    include = list(include) if include is not None else ["*"]
    return [
        name
        for name, m in model.named_modules()
        if type(m) is nn.Linear and _matches(name, include) and not _matches(name, exclude)
    ]


def assign_configs(
    model: nn.Module, config: ConfigSpec | None = None, include: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
) -> dict[str, RRAMConfig]:
    """{linear name: its config}, in module order: what ``convert`` would do, without doing it.

    config: one ``RRAMConfig`` (default ``RRAMConfig()``) for every selected linear, or a mapping from
    glob pattern to config where the first matching pattern wins and unmatched linears stay as they are.
    Raises ValueError when nothing is selected or a pattern matches no selected linear (a typo).
    """
    patterns = {"*": config or RRAMConfig()} if config is None or isinstance(config, RRAMConfig) else dict(config)
    names = select_linears(model, include, exclude)
    out = {}
    for name in names:
        pattern = next((p for p in patterns if fnmatch.fnmatchcase(name, p)), None)
        if pattern is not None:
            out[name] = patterns[pattern]
    unused = [p for p in patterns if not any(fnmatch.fnmatchcase(n, p) for n in names)]
    if not out or unused:
        linears = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)][:8]
        raise ValueError(f"no nn.Linear matched include={include} exclude={exclude} patterns={unused or list(patterns)}; "
                         f"some linear names: {linears}")
    return out


def _set_submodule(model: nn.Module, name: str, module: nn.Module) -> None:
    parent, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, child, module)


def convert(
    model: nn.Module,
    config: ConfigSpec | None = None,
    include: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
    importance: dict[str, Tensor] | None = None,
    progress: bool = False,
    hessians: dict[str, Tensor] | None = None,
) -> nn.Module:
    """Replace the selected ``nn.Linear`` modules of ``model`` by ``CrossbarLinear`` (in place).

    config: an ``RRAMConfig`` or ``{name glob: RRAMConfig}`` (see :func:`assign_configs`). include /
    exclude: glob patterns on module names (``"*.mlp.*"``, ``"lm_head"``). importance: per-layer,
    per-input-row weights from :func:`calibrate`; hessians: per-layer input XᵀX from ``calibrate(...,
    hessian=True)``, for compensated methods. The i-th converted layer's noise seed is its config's
    ``seed + i``. Returns ``model``.
    """
    configs = assign_configs(model, config, include, exclude)
    importance, hessians = importance or {}, hessians or {}
    for i, (name, cfg) in enumerate(tqdm(configs.items(), desc="rram.convert", disable=not progress)):
        linear = model.get_submodule(name)
        _set_submodule(model, name, CrossbarLinear.from_linear(linear, cfg, importance.get(name), cfg.seed + i,
                                                                  hessians.get(name)))
    return model


def to_linear(model: nn.Module) -> nn.Module:
    """Replace every ``CrossbarLinear`` by an ``nn.Linear`` holding its effective weight, in place; returns ``model``.

    The weight is what the crossbars compute in eval mode (key codes, with programming noise if the
    config has any); input and ADC quantization are not kept, so this is the ideal crossbar computation.
    """
    for name, layer in crossbar_modules(model):
        training = layer.training
        linear = nn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None,
                           device=layer.weight.device)
        with torch.no_grad():
            linear.weight.copy_(layer.eval().effective_weight())
            if layer.bias is not None:
                linear.bias.copy_(layer.bias)
        _set_submodule(model, name, linear.train(training))
    return model


def crossbar_modules(model: nn.Module) -> list[tuple[str, CrossbarLinear]]:
    return [(n, m) for n, m in model.named_modules() if isinstance(m, CrossbarLinear)]


def calibrate(
    model: nn.Module,
    run: Callable[[nn.Module], object],
    include: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
    hessian: bool = False,
) -> dict[str, Tensor]:
    """Mean squared input activation per input row of each selected linear, while ``run(model)`` runs.

    hessian: return each layer's mean input outer product XᵀX / n instead (its diagonal is the above).
    """
    sums: dict[str, Tensor] = {}
    counts: dict[str, int] = {}

    def hook(name):
        def fn(_module, args):
            x = args[0].detach().float().reshape(-1, args[0].shape[-1])
            sums[name] = sums.get(name, 0) + (x.double().T @ x.double() if hessian else (x**2).sum(0))
            counts[name] = counts.get(name, 0) + x.shape[0]

        return fn

    handles = [model.get_submodule(n).register_forward_pre_hook(hook(n)) for n in select_linears(model, include, exclude)]
    try:
        with torch.no_grad():
            run(model)
    finally:
        for h in handles:
            h.remove()
    return {n: (sums[n] / counts[n]).float() for n in sums}


def layer_maps(model: nn.Module, progress: bool = False) -> list[LayerMap]:
    """Crossbar mapping of every converted layer, in module order."""
    mods = crossbar_modules(model)
    return [m.layer_map(n) for n, m in tqdm(mods, desc="rram.map", disable=not progress)]


def model_cost(model: nn.Module, tech: str | None = None, maps: list[LayerMap] | None = None) -> ModelCost:
    """Energy/latency/area of the converted layers under ``tech`` (default: the first layer's technology)."""
    mods = crossbar_modules(model)
    if not mods:
        raise ValueError("model has no CrossbarLinear modules: call rram.convert(model, config) first")
    config = mods[0][1].config
    return _model_cost(maps if maps is not None else layer_maps(model), technology(tech or config.technology), config.crossbar)


def save_converted(model: nn.Module, directory: str | Path) -> Path:
    """Write the configs, the converted module names, their noise seeds and their state (atomically) into ``directory``."""
    mods = crossbar_modules(model)
    if not mods:
        raise ValueError("model has no CrossbarLinear modules to save: call rram.convert first")
    directory = Path(directory)
    meta = {"config": mods[0][1].config.to_dict(), "modules": [n for n, _ in mods]}
    if any(m.config != mods[0][1].config for _, m in mods):  # one config per module
        meta["module_configs"] = {n: m.config.to_dict() for n, m in mods}
    meta["seeds"] = {n: m.seed for n, m in mods}
    state = {f"{n}.{k}": v for n, m in mods for k, v in m.state_dict().items()}
    atomic_write(directory / STATE_FILE, lambda f: torch.save(state, f))
    atomic_write(directory / CONFIG_FILE, json.dumps(meta, indent=2))
    return directory


def load_converted(model: nn.Module, directory: str | Path) -> nn.Module:
    """Convert a fresh copy of the base model the same way and load the saved crossbar state."""
    directory = Path(directory)
    cfg_path = directory / CONFIG_FILE
    if not cfg_path.is_file():
        raise FileNotFoundError(f"{cfg_path} not found: pass a directory written by rram.save_converted")
    meta = json.loads(cfg_path.read_text())
    shared = RRAMConfig.from_dict(meta["config"])
    per_module = {n: RRAMConfig.from_dict(c) for n, c in meta.get("module_configs", {}).items()}
    for i, name in enumerate(meta["modules"]):
        config = per_module.get(name, shared)
        linear = model.get_submodule(name)
        if not isinstance(linear, nn.Linear):
            raise ValueError(f"{name} is {type(linear).__name__}, expected nn.Linear: load into the unconverted base model")
        seed = meta.get("seeds", {}).get(name, config.seed + i)  # directories written before seeds were saved
        layer = CrossbarLinear(linear.in_features, linear.out_features, linear.bias is not None, config, seed)
        _set_submodule(model, name, layer.train(linear.training))
    state = torch.load(directory / STATE_FILE, map_location="cpu", weights_only=True)
    for name in meta["modules"]:
        module = model.get_submodule(name)
        module.load_state_dict({k[len(name) + 1 :]: v for k, v in state.items() if k.startswith(name + ".")})
    return model
