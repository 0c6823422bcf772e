"""Every way of turning a latent weight into programmed codes: ours and the baselines, one interface.

A method derives, from a float weight, a per-channel step Δ, per-group integer scales α and a keep
mask; the programmed codes are then N = keep ⊙ sign(Q)·min(round(|Q|/α), n_max) with
Q = clamp(round(W/Δ)). Baselines are the special cases α = 1 (see ``rram.baselines`` for the masks).

Example::

    >>> import torch
    >>> from rram.methods import MethodConfig, derive
    >>> st = derive(torch.randn(32, 256), MethodConfig(name="reconstruct"))
    >>> st.alpha.shape, st.mapped_bits
    (torch.Size([32, 2]), 4)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from rram import baselines
from rram.reconstruct import ReconstructConfig, _codes, expand_groups, n_groups, quantize_per_channel, search_scales

METHODS = ("reconstruct", "dense", "quantize", "magnitude", "row", "column", "block")


@dataclass(frozen=True)
class MethodConfig:
    """Which method and its knobs.

    name: "reconstruct" (ours), "dense" (b_w bits), "quantize" (plain per-channel to key_bits),
    "magnitude" (unstructured), "row" / "column" / "block" (structured at crossbar row, column
    segment or whole-crossbar granularity). sparsity: fraction pruned by the pruning baselines.
    block_outputs: output channels per crossbar (usable cols / (slices·polarity)), used by row/block
    pruning; None (default) lets ``rram.RRAMConfig`` derive it from its crossbar.
    """

    name: str = "reconstruct"
    reconstruct: ReconstructConfig = field(default_factory=ReconstructConfig)
    sparsity: float = 0.5
    block_outputs: int | None = None

    def __post_init__(self) -> None:
        if self.name not in METHODS:
            raise ValueError(f"method {self.name!r}: use one of {METHODS}")
        if not 0.0 <= self.sparsity < 1.0:
            raise ValueError(f"sparsity={self.sparsity}: use a value in [0, 1)")

    @property
    def mapped_bits(self) -> int:
        """Bits programmed into cells per weight."""
        r = self.reconstruct
        return r.key_bits if self.name in ("reconstruct", "quantize") else r.weight_bits

    @property
    def q_bits(self) -> int:
        """Bits of the base quantization Q."""
        return self.reconstruct.key_bits if self.name == "quantize" else self.reconstruct.weight_bits

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


def codes(weight: Tensor, state: MethodState, config: MethodConfig) -> tuple[Tensor, Tensor]:
    """(Q, N) of ``weight`` under a derived state (Δ, α, keep held fixed)."""
    q = quantize_with(weight, state.delta, config.q_bits)
    a = expand_groups(state.alpha, weight.shape[1], config.reconstruct.group_size)
    n = torch.sign(q) * _codes(q.abs(), a, config.code_max)
    if state.keep is not None:
        n = n * state.keep
    return q, n


def derive(weight: Tensor, config: MethodConfig, importance: Tensor | None = None) -> MethodState:
    """Derive Δ, α and the keep mask of one layer from its current weight."""
    w = weight.detach().float()
    r = config.reconstruct
    q, delta = quantize_per_channel(w, config.q_bits)
    ng = n_groups(w.shape[1], r.group_size)
    alpha = torch.ones(w.shape[0], ng)
    keep = None
    if config.name == "reconstruct":
        alpha = search_scales(q, r, importance)
        if r.prune_fraction > 0:
            keep = baselines.block_keep_mask(w, r.prune_fraction, (1, r.group_size), importance)
    elif config.name in baselines.BLOCKS:
        if config.block_outputs is None and config.name in ("row", "block"):
            raise ValueError(f"{config.name} pruning needs block_outputs: build the config with rram.RRAMConfig")
        shape = baselines.block_shape(config.name, config.block_outputs, r.group_size)
        keep = baselines.block_keep_mask(w, config.sparsity, shape, importance)
    return MethodState(delta=delta, alpha=alpha, keep=keep, mapped_bits=config.mapped_bits)
