"""Mixed precision: key bits chosen per layer from a sensitivity measure under a global crossbar budget (RRAM.md §1.4).

Sensitivity of a layer at b key bits = the (importance-weighted) squared error of its reconstructed weight,
Σ importance·(W − Δ·α·N)², next to the crossbars it needs at b bits. The allocation starts every layer at
the fewest bits and greedily upgrades the layer with the largest error reduction per extra crossbar while
the total stays within the budget. A heuristic: the error is measured in weight space, not on the task.
The result is plain per-layer configs, ``{module name: RRAMConfig}``, which ``rram.convert`` takes directly.

Example::

    >>> import torch, rram
    >>> from rram.mixed import allocate_bits, layer_configs, layer_sensitivity
    >>> model = torch.nn.Sequential(torch.nn.Linear(256, 256), torch.nn.Linear(256, 256))
    >>> cfg = rram.RRAMConfig()
    >>> sens = layer_sensitivity(model, cfg, (4, 6))
    >>> bits = allocate_bits(sens, budget_crossbars=16 + 24)   # one layer at 4 bits (16), one at 6 (24)
    >>> sorted(bits.values())
    [4, 6]
    >>> rram.model_cost(rram.convert(model, layer_configs(cfg, bits))).crossbars
    40

With the budget as a fraction of the dense 8-bit mapping (2 × 32 crossbars here)::

    >>> from rram.mixed import budget_configs
    >>> model = torch.nn.Sequential(torch.nn.Linear(256, 256), torch.nn.Linear(256, 256))
    >>> runs = budget_configs(model, cfg, (4, 6), budgets=[0.625])
    >>> list(runs), sorted(c.method.reconstruct.key_bits for c in runs["reconstruct-mixed4-6b-0.625"].values())
    (['reconstruct-mixed4-6b-0.625'], [4, 6])
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn

from rram import methods
from rram.mapping import map_layer
from rram.nn.config import RRAMConfig
from rram.nn.convert import select_linears


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
            cfg = config.with_key_bits(b)
            st = methods.derive(w, cfg.method, imp)
            _, n = methods.codes(w, st, cfg.method)
            a = torch.repeat_interleave(st.alpha, cfg.method.reconstruct.group_size, dim=1)[:, : w.shape[1]]
            err = (w - st.delta * a * n) ** 2
            if imp is not None:
                err = err * imp.float().flatten().unsqueeze(0)
            xb = map_layer(name, w.shape[1], w.shape[0], cfg.method.mapped_bits, cfg.crossbar, n != 0, n).crossbars
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


def layer_configs(config: RRAMConfig, bits: dict[str, int]) -> dict[str, RRAMConfig]:
    """{layer: ``config`` with that layer's key bits}: what ``rram.convert`` takes for a mixed-precision model."""
    return {name: config.with_key_bits(b) for name, b in bits.items()}


def dense_crossbars(model: nn.Module, config: RRAMConfig, include: Iterable[str] | None = None,
                    exclude: Iterable[str] | None = None) -> int:
    """Crossbars of the selected linears mapped dense at ``config``'s weight bits (the budget's unit)."""
    bits = config.method.reconstruct.weight_bits
    linears = [model.get_submodule(n) for n in select_linears(model, include, exclude)]
    return sum(map_layer("", m.in_features, m.out_features, bits, config.crossbar).crossbars for m in linears)


def budget_configs(
    model: nn.Module, config: RRAMConfig, choices: Iterable[int], budgets: Iterable[float],
    include: Iterable[str] | None = None, exclude: Iterable[str] | None = None,
    importance: dict[str, Tensor] | None = None,
) -> dict[str, dict[str, RRAMConfig]]:
    """Per budget (a fraction of the dense crossbars), the allocated per-layer configs, keyed by a run label.

    Labels read ``reconstruct-mixed4-6b-0.6``: method family, fewest-most key bits, budget. ``config`` gives
    everything but the key bits; the sensitivity is measured once, with ``importance`` if given.
    """
    choices = sorted(set(choices))
    sens = layer_sensitivity(model, config, choices, include, exclude, importance)
    dense = dense_crossbars(model, config, include, exclude)
    label = f"{config.method.family}-mixed{choices[0]}-{choices[-1]}b"
    return {f"{label}-{f:g}": layer_configs(config, allocate_bits(sens, int(f * dense))) for f in budgets}
