"""Mixed precision: key bits chosen per layer from a sensitivity measure under a global crossbar budget (RRAM.md §1.4).

Sensitivity of a layer at b key bits = the (importance-weighted) squared error of its reconstructed weight,
Σ importance·(W − Δ·α·N)², next to the crossbars it needs at b bits. The allocation starts every layer at
the fewest bits and greedily upgrades the layer with the largest error reduction per extra crossbar while
the total stays within the budget. A heuristic: the error is measured in weight space, not on the task.

Example::

    >>> import torch, rram
    >>> from rram.mixed import allocate_bits, convert_mixed, layer_sensitivity
    >>> model = torch.nn.Sequential(torch.nn.Linear(256, 256), torch.nn.Linear(256, 256))
    >>> cfg = rram.RRAMConfig.build(key_bits=4)
    >>> sens = layer_sensitivity(model, cfg, (4, 6))
    >>> bits = allocate_bits(sens, budget_crossbars=16 + 24)   # one layer at 4 bits (16), one at 6 (24)
    >>> sorted(bits.values())
    [4, 6]
    >>> rram.model_cost(convert_mixed(model, cfg, bits)).crossbars
    40
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import torch
from torch import Tensor, nn

from rram import methods
from rram.mapping import map_layer
from rram.nn.config import RRAMConfig
from rram.nn.convert import convert, select_linears


def with_key_bits(config: RRAMConfig, bits: int) -> RRAMConfig:
    """``config`` with ``bits`` key bits (and pruning blocks kept consistent with the crossbar)."""
    m = config.method
    m = replace(m, reconstruct=replace(m.reconstruct, key_bits=bits))
    xbar = config.crossbar
    m = replace(m, block_outputs=max(1, xbar.usable_cols // (xbar.slices(m.mapped_bits) * xbar.polarity)))
    return replace(config, method=m)


def layer_sensitivity(
    model: nn.Module, config: RRAMConfig, choices: Iterable[int], include: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None, importance: dict[str, Tensor] | None = None,
) -> dict[str, dict[int, tuple[float, int]]]:
    """{layer: {bits: (weighted squared reconstruction error, crossbars)}} for each selected linear."""
    importance = importance or {}
    out: dict[str, dict[int, tuple[float, int]]] = {}
    for name in select_linears(model, include, exclude):
        w = model.get_submodule(name).weight.detach().float()
        imp = importance.get(name)
        rows = {}
        for b in choices:
            cfg = with_key_bits(config, b)
            st = methods.derive(w, cfg.method, imp)
            _, n = methods.codes(w, st, cfg.method)
            a = torch.repeat_interleave(st.alpha, cfg.method.reconstruct.group_size, dim=1)[:, : w.shape[1]]
            err = (w - st.delta * a * n) ** 2
            if imp is not None:
                err = err * imp.float().flatten().unsqueeze(0)
            xb = map_layer(name, w.shape[1], w.shape[0], cfg.method.mapped_bits, cfg.crossbar, n != 0).crossbars
            rows[b] = (float(err.sum()), xb)
        out[name] = rows
    return out


def allocate_bits(sensitivity: dict[str, dict[int, tuple[float, int]]], budget_crossbars: int) -> dict[str, int]:
    """Per-layer key bits: all at the fewest bits, then greedy upgrades by error reduction per extra crossbar."""
    bits = {name: min(rows) for name, rows in sensitivity.items()}
    total = sum(sensitivity[n][b][1] for n, b in bits.items())
    if total > budget_crossbars:
        raise ValueError(f"budget {budget_crossbars} crossbars is below the all-{min(bits.values())}-bit "
                         f"mapping ({total}); raise the budget or add fewer bits to the choices")
    while True:
        best = None
        for name, b in bits.items():
            rows = sensitivity[name]
            for nb in sorted(x for x in rows if x > b):
                extra = rows[nb][1] - rows[b][1]
                gain = rows[b][0] - rows[nb][0]
                if total + extra > budget_crossbars or gain <= 0:
                    continue
                score = gain / max(extra, 1e-9)
                if best is None or score > best[0]:
                    best = (score, name, nb, extra)
        if best is None:
            return bits
        _, name, nb, extra = best
        bits[name] = nb
        total += extra


def convert_mixed(
    model: nn.Module, config: RRAMConfig, bits: dict[str, int], importance: dict[str, Tensor] | None = None,
) -> nn.Module:
    """``rram.convert`` each layer with its own key bits (in place; returns ``model``)."""
    for b in sorted(set(bits.values())):
        names = [n for n, nb in bits.items() if nb == b]
        convert(model, with_key_bits(config, b), include=names, importance=importance)
    return model


@dataclass(frozen=True)
class MixedConfig:
    """A base config plus per-layer key bits; ``rram.experiment`` runs it like an ``RRAMConfig``."""

    base: RRAMConfig
    bits: dict[str, int] = field(default_factory=dict)

    @property
    def method(self):
        return self.base.method

    @property
    def technology(self) -> str:
        return self.base.technology

    def apply(self, model: nn.Module, importance: dict[str, Tensor] | None = None) -> nn.Module:
        return convert_mixed(model, self.base, self.bits, importance)

    def to_dict(self) -> dict:
        counts = {b: sum(1 for v in self.bits.values() if v == b) for b in sorted(set(self.bits.values()))}
        return {**self.base.to_dict(), "mixed_bits": dict(self.bits), "mixed_layers_per_bits": counts}
