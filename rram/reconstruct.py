"""Weight reconstruction by integer scaling: Q ≈ α·N per crossbar-column group (RRAM.md §1).

Per output channel, W is quantized to signed ``weight_bits`` integers, W ≈ Δ·Q. Each group of
``group_size`` consecutive input rows of one output channel shares an integer scale α ≥ 1, and only
the small "key" codes N (|N| ≤ 2^(key_bits−1)−1) are programmed into cells; D = Q − α·N is dropped.
Groups whose N is all zero are pruned outright.

Example::

    >>> import torch
    >>> from rram.reconstruct import ReconstructConfig, reconstruct
    >>> w = torch.randn(64, 256)
    >>> r = reconstruct(w, ReconstructConfig(key_bits=4))
    >>> r.codes.abs().max().item() <= 7, r.key_weight().shape
    (True, torch.Size([64, 256]))
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

SCALE_MODES = ("integer", "pow2")


@dataclass(frozen=True)
class ReconstructConfig:
    """How to reconstruct one layer's weights.

    weight_bits: base per-channel quantization (b_w). key_bits: bits of the programmed codes N (b_k).
    group_size: input rows sharing one α (= crossbar rows). scales: "integer" (α in 1..2^(b_w−1)) or
    "pow2" (α a power of two: a shift instead of a multiply). prune_fraction: extra fraction of a
    layer's groups, lowest importance-weighted energy first, pruned outright (0 = only all-zero groups).
    """

    weight_bits: int = 8
    key_bits: int = 4
    group_size: int = 128
    scales: str = "integer"
    prune_fraction: float = 0.0

    def __post_init__(self) -> None:
        if not 2 <= self.weight_bits <= 16:
            raise ValueError(f"weight_bits={self.weight_bits}: use 2..16")
        if not 2 <= self.key_bits <= self.weight_bits:
            raise ValueError(f"key_bits={self.key_bits}: use 2..weight_bits ({self.weight_bits})")
        if self.group_size < 1:
            raise ValueError(f"group_size={self.group_size}: must be >= 1 (crossbar rows, e.g. 128)")
        if self.scales not in SCALE_MODES:
            raise ValueError(f"scales={self.scales!r}: use one of {SCALE_MODES}")
        if not 0.0 <= self.prune_fraction < 1.0:
            raise ValueError(f"prune_fraction={self.prune_fraction}: use a value in [0, 1)")

    @property
    def key_max(self) -> int:
        return 2 ** (self.key_bits - 1) - 1

    @property
    def weight_max(self) -> int:
        return 2 ** (self.weight_bits - 1) - 1

    def scale_candidates(self) -> Tensor:
        top = 2 ** (self.weight_bits - 1)
        if self.scales == "pow2":
            return torch.tensor([2**i for i in range(self.weight_bits)], dtype=torch.float64)
        return torch.arange(1, top + 1, dtype=torch.float64)


def quantize_per_channel(weight: Tensor, bits: int) -> tuple[Tensor, Tensor]:
    """Symmetric per-output-channel quantization: returns (Q, Δ) with W ≈ Δ·Q, Q integer-valued float."""
    qmax = 2 ** (bits - 1) - 1
    w = weight.detach().float()
    delta = w.abs().amax(dim=1, keepdim=True) / qmax
    delta = torch.where(delta > 0, delta, torch.ones_like(delta))
    q = torch.clamp(torch.round(w / delta), -qmax, qmax)
    return q, delta


def group_ids(in_features: int, group_size: int) -> Tensor:
    """Group index of each input row: row // group_size."""
    return torch.arange(in_features) // group_size


def n_groups(in_features: int, group_size: int) -> int:
    return math.ceil(in_features / group_size)


def _codes(q_abs: Tensor, alpha: Tensor, key_max: int) -> Tensor:
    """|N| = min(round(|Q|/α), key_max), rounding half up (deterministic)."""
    return torch.clamp(torch.floor(q_abs / alpha + 0.5), max=key_max)


def search_scales(
    q: Tensor, config: ReconstructConfig, importance: Tensor | None = None, chunk: int = 4096
) -> Tensor:
    """Per-group α minimising Σ importance·(Q − α·N)² over all candidate scales.

    Exhaustive but cheap: the error only depends on |Q|, so each group is summarised by an
    importance-weighted histogram of |Q| and the errors of every α come from one matrix product.
    Returns α as a float tensor of shape [out, n_groups]; ties go to the smallest α.
    Output channels are processed ``chunk`` at a time to bound memory.
    """
    if q.shape[0] > chunk:
        return torch.cat([search_scales(part, config, importance, chunk) for part in q.split(chunk)])
    out_f, in_f = q.shape
    ng = n_groups(in_f, config.group_size)
    levels = config.weight_max + 1
    q_abs = q.abs().long().clamp(max=config.weight_max)
    weights = torch.ones(in_f, dtype=torch.float64) if importance is None else importance.double().flatten()
    if weights.numel() != in_f:
        raise ValueError(f"importance has {weights.numel()} entries, layer has {in_f} inputs: pass one per input row")
    g = group_ids(in_f, config.group_size)
    bins = (torch.arange(out_f).unsqueeze(1) * ng + g.unsqueeze(0)) * levels + q_abs
    hist = torch.bincount(bins.flatten(), weights=weights.expand(out_f, in_f).flatten(), minlength=out_f * ng * levels)
    hist = hist.view(out_f * ng, levels)
    values = torch.arange(levels, dtype=torch.float64).unsqueeze(1)
    alphas = config.scale_candidates().unsqueeze(0)
    err_table = (values - alphas * _codes(values, alphas, config.key_max)) ** 2  # [levels, n_alpha]
    best = (hist @ err_table).argmin(dim=1)
    return config.scale_candidates()[best].view(out_f, ng).float()


def split_key(q: Tensor, alpha: Tensor, config: ReconstructConfig) -> tuple[Tensor, Tensor]:
    """(N, D) with Q = α·N + D for the given per-group α."""
    a = expand_groups(alpha, q.shape[1], config.group_size)
    n = torch.sign(q) * _codes(q.abs(), a, config.key_max)
    return n, q - a * n


def expand_groups(per_group: Tensor, in_features: int, group_size: int) -> Tensor:
    """[out, n_groups] → [out, in_features] by repeating each group value over its rows."""
    return per_group.repeat_interleave(group_size, dim=1)[:, :in_features]


@dataclass
class Reconstruction:
    """One layer's reconstruction: W_key = Δ·α·N, W_full = Δ·(α·N + D) = Δ·Q."""

    delta: Tensor  # [out, 1]
    alpha: Tensor  # [out, n_groups]
    codes: Tensor  # N, [out, in], integer-valued
    residual: Tensor  # D, [out, in], integer-valued
    group_size: int

    @property
    def pruned(self) -> Tensor:
        """[out, n_groups] bool: groups whose codes are all zero (never programmed)."""
        ng = self.alpha.shape[1]
        pad = ng * self.group_size - self.codes.shape[1]
        nz = torch.nn.functional.pad(self.codes != 0, (0, pad)).view(self.codes.shape[0], ng, self.group_size)
        return ~nz.any(dim=2)

    def active(self) -> Tensor:
        """[out, in] bool: cells that are programmed (rows of unpruned groups)."""
        return ~expand_groups(self.pruned, self.codes.shape[1], self.group_size)

    def weight(self, lam: float = 0.0) -> Tensor:
        """Δ·(α·N + λ·D); λ = 0 gives the key-only weights that the crossbar holds."""
        a = expand_groups(self.alpha, self.codes.shape[1], self.group_size)
        return self.delta * (a * self.codes + lam * self.residual)

    def key_weight(self) -> Tensor:
        return self.weight(0.0)


def reconstruct(weight: Tensor, config: ReconstructConfig, importance: Tensor | None = None) -> Reconstruction:
    """Quantize, search per-group integer scales, split Q into key codes and residual, prune empty groups.

    importance: optional per-input-row weights (e.g. mean squared activation from calibration data).
    """
    if weight.dim() != 2:
        raise ValueError(f"expected a 2-D [out, in] weight, got shape {tuple(weight.shape)}")
    q, delta = quantize_per_channel(weight, config.weight_bits)
    alpha = search_scales(q, config, importance)
    n, d = split_key(q, alpha, config)
    if config.prune_fraction > 0:
        n, d = _prune_lowest(q, n, alpha, delta, config, importance)
    return Reconstruction(delta=delta, alpha=alpha, codes=n, residual=d, group_size=config.group_size)


def _prune_lowest(q, n, alpha, delta, config: ReconstructConfig, importance):
    """Zero the codes of the prune_fraction of groups with least importance-weighted key energy."""
    out_f, in_f = q.shape
    ng = alpha.shape[1]
    imp = torch.ones(in_f) if importance is None else importance.float().flatten()
    key = (delta * expand_groups(alpha, in_f, config.group_size) * n) ** 2 * imp
    pad = ng * config.group_size - in_f
    score = torch.nn.functional.pad(key, (0, pad)).view(out_f, ng, config.group_size).sum(2)
    k = int(config.prune_fraction * score.numel())
    if k == 0:
        return n, q - expand_groups(alpha, in_f, config.group_size) * n
    cut = score.flatten().kthvalue(k).values
    drop = expand_groups(score <= cut, in_f, config.group_size)
    n = torch.where(drop, torch.zeros_like(n), n)
    return n, q - expand_groups(alpha, in_f, config.group_size) * n
