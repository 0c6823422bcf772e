"""Model surgery: swap ``nn.Linear`` modules for ``CrossbarLinear``, cost the result, save and load it.

The shape of torchao's ``quantize_(model, config)`` and aihwkit's ``convert_to_analog(model, rpu_config)``:
one call, one plain config, a name filter; the model is changed in place and returned.

Example::

    >>> import torch
    >>> import rram
    >>> model = torch.nn.Sequential(torch.nn.Linear(256, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    >>> model = rram.convert(model, rram.RRAMConfig.build(key_bits=4), exclude=["2"])
    >>> [type(m).__name__ for m in model]
    ['CrossbarLinear', 'ReLU', 'Linear']
    >>> rram.model_cost(model).crossbars
    8
"""

from __future__ import annotations

import fnmatch
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from rram.cost import ModelCost, model_cost as _model_cost, technology
from rram.mapping import LayerMap
from rram.nn.config import RRAMConfig
from rram.nn.linear import CrossbarLinear

CONFIG_FILE = "rram_config.json"
STATE_FILE = "rram_state.pt"


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


def _set_submodule(model: nn.Module, name: str, module: nn.Module) -> None:
    parent, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, child, module)


def convert(
    model: nn.Module,
    config: RRAMConfig | None = None,
    include: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
    importance: dict[str, Tensor] | None = None,
    progress: bool = False,
) -> nn.Module:
    """Replace the selected ``nn.Linear`` modules of ``model`` by ``CrossbarLinear`` (in place).

    include / exclude: glob patterns on module names (``"*.mlp.*"``, ``"lm_head"``). importance:
    per-layer, per-input-row weights from :func:`calibrate`. Returns ``model``.
    """
    config = config or RRAMConfig.build()
    names = select_linears(model, include, exclude)
    if not names:
        linears = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)][:8]
        raise ValueError(f"no nn.Linear matched include={include} exclude={exclude}; some linear names: {linears}")
    importance = importance or {}
    for i, name in enumerate(tqdm(names, desc="rram.convert", disable=not progress)):
        linear = model.get_submodule(name)
        _set_submodule(model, name, CrossbarLinear.from_linear(linear, config, importance.get(name), config.seed + i))
    return model


def crossbar_modules(model: nn.Module) -> list[tuple[str, CrossbarLinear]]:
    return [(n, m) for n, m in model.named_modules() if isinstance(m, CrossbarLinear)]


def calibrate(
    model: nn.Module,
    run: Callable[[nn.Module], object],
    include: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
) -> dict[str, Tensor]:
    """Mean squared input activation per input row of each selected linear, while ``run(model)`` runs."""
    sums: dict[str, Tensor] = {}
    counts: dict[str, int] = {}

    def hook(name):
        def fn(_module, args):
            x = args[0].detach().float().reshape(-1, args[0].shape[-1])
            sums[name] = sums.get(name, 0) + (x**2).sum(0)
            counts[name] = counts.get(name, 0) + x.shape[0]

        return fn

    handles = [model.get_submodule(n).register_forward_pre_hook(hook(n)) for n in select_linears(model, include, exclude)]
    try:
        with torch.no_grad():
            run(model)
    finally:
        for h in handles:
            h.remove()
    return {n: sums[n] / counts[n] for n in sums}


def layer_maps(model: nn.Module, progress: bool = False) -> list[LayerMap]:
    """Crossbar mapping of every converted layer, in module order."""
    mods = crossbar_modules(model)
    return [m.layer_map(n) for n, m in tqdm(mods, desc="rram.map", disable=not progress)]


def model_cost(model: nn.Module, tech: str | None = None, maps: list[LayerMap] | None = None) -> ModelCost:
    """Energy/latency/area of the converted layers under ``tech`` (default: the config's technology)."""
    mods = crossbar_modules(model)
    if not mods:
        raise ValueError("model has no CrossbarLinear modules: call rram.convert(model, config) first")
    config = mods[0][1].config
    return _model_cost(maps if maps is not None else layer_maps(model), technology(tech or config.technology), config.crossbar)


def save_converted(model: nn.Module, directory: str | Path) -> Path:
    """Write the config, the converted module names and their state (atomically) into ``directory``."""
    mods = crossbar_modules(model)
    if not mods:
        raise ValueError("model has no CrossbarLinear modules to save: call rram.convert first")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    meta = {"config": mods[0][1].config.to_dict(), "modules": [n for n, _ in mods]}
    if any(m.config != mods[0][1].config for _, m in mods):  # mixed precision: one config per module
        meta["module_configs"] = {n: m.config.to_dict() for n, m in mods}
        meta["seeds"] = {n: m.seed for n, m in mods}  # noise seeds (convert_mixed numbers layers per call)
    state = {f"{n}.{k}": v for n, m in mods for k, v in m.state_dict().items()}
    _atomic(directory / STATE_FILE, lambda f: torch.save(state, f))
    _atomic(directory / CONFIG_FILE, lambda f: f.write(json.dumps(meta, indent=2).encode()))
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
        seed = meta.get("seeds", {}).get(name, config.seed + i)
        layer = CrossbarLinear(linear.in_features, linear.out_features, linear.bias is not None, config, seed)
        _set_submodule(model, name, layer.train(linear.training))
    state = torch.load(directory / STATE_FILE, map_location="cpu", weights_only=True)
    for name in meta["modules"]:
        module = model.get_submodule(name)
        module.load_state_dict({k[len(name) + 1 :]: v for k, v in state.items() if k.startswith(name + ".")})
    return model


def _atomic(path: Path, write: Callable) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
