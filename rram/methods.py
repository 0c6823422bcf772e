"""Every way of turning a latent weight into programmed codes: ours and the baselines, one interface.

A method derives, from a float weight, a per-channel step Δ, per-group scales α and a keep mask; the
crossbar then computes with Δ·α·N. Ours: α integer, N = keep ⊙ sign(Q)·min(round(|Q|/α), n_max) with
Q = clamp(round(W/Δ)). Baselines: α = 1 (``quantize``, the pruning masks of ``rram.baselines``), or α a
float per group (``group``: round-to-nearest with one scale per crossbar column segment, as GPTQ's
group quantization). ``compensate`` adds GPTQ's error compensation (``rram.gptq``) to any of them: the
family ``group`` + compensation is GPTQ.

Example::

    >>> import torch
    >>> from rram.methods import MethodConfig, derive
    >>> st = derive(torch.randn(32, 256), MethodConfig(name="reconstruct"))
    >>> st.alpha.shape, st.mapped_bits
    (torch.Size([32, 2]), 4)
    >>> MethodConfig(name="group", compensate=True).family, MethodConfig(name="group", compensate=True, clip_search=True).family
    ('gptq', 'gptq-mse')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor

from rram import baselines
from rram.mapping import ScaleFormat
from rram.reconstruct import ReconstructConfig, _codes, n_groups, quantize_per_channel, search_scales

METHODS = ("reconstruct", "dense", "quantize", "group", "magnitude", "row", "column", "block")
KEY_METHODS = ("reconstruct", "quantize", "group")  # methods that program key_bits instead of weight_bits


def family_name(name: str, compensate: bool = False, clip_search: bool = False) -> str:
    """A method family's name: the method, with "+gptq" when compensated (compensated ``group`` is "gptq"), and
    "-mse" when its group scales come from a clip search."""
    base = name if not compensate else "gptq" if name == "group" else f"{name}+gptq"
    return f"{base}-mse" if clip_search else base


@dataclass(frozen=True)
class MethodConfig:
    """Which method and its knobs.

    name: "reconstruct" (ours), "dense" (b_w bits), "quantize" (plain per-channel to key_bits), "group"
    (key_bits with a float scale per group of crossbar rows), "magnitude" (unstructured), "row" /
    "column" / "block" (structured at crossbar row, column segment or whole-crossbar granularity).
    sparsity: fraction pruned by the pruning baselines. compensate: choose the codes with GPTQ's
    Hessian-weighted error compensation (needs each layer's input Hessian, ``rram.calibrate``).
    clip_search (``group`` only): each group's scale is the clipped range, of ``CLIP_GRID`` candidates, with the least
    importance-weighted squared error (GPTQ's "mse" scale search; ours' integer α search always does this).
    block_outputs: output channels per crossbar (usable cols / (slices·polarity)), used by row/block
    pruning; None (default) lets ``rram.RRAMConfig`` derive it from its crossbar.
    """

    name: str = "reconstruct"
    reconstruct: ReconstructConfig = field(default_factory=ReconstructConfig)
    sparsity: float = 0.5
    block_outputs: int | None = None
    compensate: bool = False
    clip_search: bool = False

    def __post_init__(self) -> None:
        if self.name not in METHODS:
            raise ValueError(f"method {self.name!r}: use one of {METHODS}")
        if self.clip_search and self.name != "group":
            raise ValueError(f"clip_search applies to method 'group' (float group scales), not {self.name!r}")
        if not 0.0 <= self.sparsity < 1.0:
            raise ValueError(f"sparsity={self.sparsity}: use a value in [0, 1)")

    @property
    def family(self) -> str:
        return family_name(self.name, self.compensate, self.clip_search)

    @property
    def mapped_bits(self) -> int:
        """Bits programmed into cells per weight."""
        r = self.reconstruct
        return r.key_bits if self.name in KEY_METHODS else r.weight_bits

    @property
    def q_bits(self) -> int:
        """Bits of the base quantization Q."""
        return self.reconstruct.key_bits if self.name in ("quantize", "group") else self.reconstruct.weight_bits

    @property
    def scale_format(self) -> ScaleFormat:
        """The digital scales after the crossbars: an fp16 scale per group (Δ folded in) for ``group``; an integer α
        per group (``weight_bits`` wide, or a 3-bit shift for power-of-two α) and an fp16 Δ per output for ours; an
        fp16 Δ per output for the rest."""
        r = self.reconstruct
        if self.name == "group":
            return ScaleFormat("float", 16, channel_bits=0)
        if self.name == "reconstruct":
            pow2 = r.scales == "pow2"
            return ScaleFormat("shift" if pow2 else "int", max(1, (r.weight_bits - 1).bit_length()) if pow2 else r.weight_bits)
        return ScaleFormat()

    @property
    def code_max(self) -> int:
        return 2 ** (self.mapped_bits - 1) - 1


@dataclass
class MethodState:
    delta: Tensor  # [out, 1]
    alpha: Tensor  # [out, n_groups]
    keep: Tensor | None  # [out, in] bool, None = keep all
    mapped_bits: int


def quantize_with(weight: Tensor, delta: Tensor, bits: int) -> Tensor:
    qmax = 2 ** (bits - 1) - 1
    return torch.clamp(torch.round(weight / delta), -qmax, qmax)


def _alpha_columns(alpha: Tensor, group_size: int, start: int, count: int) -> Tensor:
    """The α of weight columns start … start+count−1: [out, n_groups] → [out, count]."""
    return alpha[:, torch.arange(start, start + count) // group_size]


def codes(weight: Tensor, state: MethodState, config: MethodConfig, start: int = 0) -> tuple[Tensor, Tensor]:
    """(Q, N) of ``weight`` under a derived state (Δ, α, keep held fixed); Q = α·N + D.

    start: the layer's column that is ``weight``'s first, when ``weight`` holds only some of its columns.
    """
    a = _alpha_columns(state.alpha, config.reconstruct.group_size, start, weight.shape[1])
    if config.name == "group":
        n = torch.clamp(torch.round(weight / (state.delta * a)), -config.code_max, config.code_max)
        q = a * n
    else:
        q = quantize_with(weight, state.delta, config.q_bits)
        n = torch.sign(q) * _codes(q.abs(), a, config.code_max)
    if state.keep is not None:
        n = n * state.keep[:, start : start + weight.shape[1]]
    return q, n


def key_weight(weight: Tensor, state: MethodState, config: MethodConfig, start: int = 0) -> Tensor:
    """Δ·α·N: the weight the crossbar computes with (``start`` as in :func:`codes`)."""
    a = _alpha_columns(state.alpha, config.reconstruct.group_size, start, weight.shape[1])
    return state.delta * a * codes(weight, state, config, start)[1]


def column_quantizer(state: MethodState, config: MethodConfig, in_features: int) -> Callable[[Tensor, int], Tensor]:
    """``key_weight`` of one column j ([out, 1]) at a time, its scales expanded once for the layer: GPTQ's column loop
    calls it once per input, so the per-call work is what conversion time is made of. Same values as ``key_weight``."""
    a = _alpha_columns(state.alpha, config.reconstruct.group_size, 0, in_features)
    scale = state.delta * a
    keep = state.keep

    def quantize(column: Tensor, j: int) -> Tensor:
        if config.name == "group":
            n = torch.clamp(torch.round(column / scale[:, j : j + 1]), -config.code_max, config.code_max)
        else:
            q = quantize_with(column, state.delta, config.q_bits)
            n = torch.sign(q) * _codes(q.abs(), a[:, j : j + 1], config.code_max)
        if keep is not None:
            n = n * keep[:, j : j + 1]
        return scale[:, j : j + 1] * n

    return quantize


CLIP_GRID = torch.arange(100, 20, -1, dtype=torch.float64) / 100  # shrink factors 1.00 … 0.21 (GPTQ's mse grid)


def group_scales(weight: Tensor, delta: Tensor, group_size: int, code_max: int, importance: Tensor | None = None,
                 clip_search: bool = False) -> Tensor:
    """Per-group float α so that Δ·α = the group's largest |W| / code_max (α = 1 for all-zero groups).

    clip_search: Δ·α = p · largest |W| / code_max instead, with p from ``CLIP_GRID`` minimising the group's
    Σ importance·(W − round-to-nearest W)².
    """
    out_f, in_f = weight.shape
    ng = n_groups(in_f, group_size)
    w = torch.nn.functional.pad(weight.detach().double(), (0, ng * group_size - in_f)).view(out_f, ng, group_size)
    peak = w.abs().amax(2)
    shrink = torch.ones_like(peak)
    if clip_search:
        imp = torch.ones(in_f, dtype=torch.float64) if importance is None else importance.double().flatten()
        imp = torch.nn.functional.pad(imp, (0, ng * group_size - in_f)).view(1, ng, group_size)
        best = torch.full_like(peak, float("inf"))
        rounded = torch.empty_like(w)  # one buffer for every candidate: the grid is most of gptq-mse's conversion time
        for p in CLIP_GRID:
            step = (p * peak / code_max).clamp_min(1e-30).unsqueeze(2)
            torch.div(w, step, out=rounded).round_().clamp_(-code_max, code_max).mul_(step)
            err = torch.sub(w, rounded, out=rounded).square_().mul_(imp).sum(2)
            better = err < best
            best, shrink = torch.where(better, err, best), torch.where(better, p, shrink)
    alpha = (shrink * peak / code_max / delta.double()).float()
    return torch.where(peak > 0, alpha, torch.ones_like(alpha))


def derive(weight: Tensor, config: MethodConfig, importance: Tensor | None = None) -> MethodState:
    """Derive Δ, α and the keep mask of one layer from its current weight."""
    w = weight.detach().float()
    r = config.reconstruct
    q, delta = quantize_per_channel(w, config.q_bits)
    ng = n_groups(w.shape[1], r.group_size)
    alpha = torch.ones(w.shape[0], ng)
    keep = None
    if config.name == "group":
        alpha = group_scales(w, delta, r.group_size, config.code_max, importance, config.clip_search)
    elif config.name == "reconstruct":
        alpha = search_scales(q, r, importance)
        if r.prune_fraction > 0:
            keep = baselines.block_keep_mask(w, r.prune_fraction, (1, r.group_size), importance)
    elif config.name in baselines.BLOCKS:
        if config.block_outputs is None and config.name in ("row", "block"):
            raise ValueError(f"{config.name} pruning needs block_outputs: build the config with rram.RRAMConfig")
        shape = baselines.block_shape(config.name, config.block_outputs, r.group_size)
        keep = baselines.block_keep_mask(w, config.sparsity, shape, importance)
    return MethodState(delta=delta, alpha=alpha, keep=keep, mapped_bits=config.mapped_bits)
