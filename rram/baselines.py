"""Baselines' pruning masks: unstructured magnitude and structured row / column / crossbar-block pruning.

All are one operation: tile the [out, in] weight into blocks, score each block by its
importance-weighted squared magnitude, and drop the lowest-scoring ``sparsity`` fraction. The
block shape sets the granularity (RRAM.md §2):

- magnitude: 1×1 (single weights; crossbars freed only where whole blocks become empty);
- row: one input row across the output channels of one crossbar (empties crossbar rows);
- column: one output channel across the rows of one crossbar (empties column segments);
- block: a whole crossbar's worth of weights.

Dense b_w-bit and plain b_k-bit quantization need no mask (``rram.methods``).

Example::

    >>> import torch
    >>> from rram.baselines import block_keep_mask
    >>> keep = block_keep_mask(torch.randn(32, 256), 0.5, (1, 128))
    >>> keep.float().mean().item()
    0.5
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

BLOCKS = ("magnitude", "row", "column", "block")


def block_shape(granularity: str, block_outputs: int, rows: int) -> tuple[int, int]:
    """(outputs, inputs) per pruning block; block_outputs = output channels per crossbar."""
    shapes = {"magnitude": (1, 1), "row": (block_outputs, 1), "column": (1, rows), "block": (block_outputs, rows)}
    if granularity not in shapes:
        raise ValueError(f"granularity {granularity!r}: use one of {sorted(shapes)}")
    return shapes[granularity]


def block_scores(weight: Tensor, block: tuple[int, int], importance: Tensor | None = None) -> Tensor:
    """Σ importance·W² per block, shape [ceil(out/bo), ceil(in/bi)] (edges zero-padded)."""
    bo, bi = block
    out_f, in_f = weight.shape
    e = weight.detach().float() ** 2
    if importance is not None:
        e = e * importance.float().flatten().unsqueeze(0)
    no, ni = math.ceil(out_f / bo), math.ceil(in_f / bi)
    e = torch.nn.functional.pad(e, (0, ni * bi - in_f, 0, no * bo - out_f))
    return e.view(no, bo, ni, bi).sum(dim=(1, 3))


def block_keep_mask(weight: Tensor, sparsity: float, block: tuple[int, int], importance: Tensor | None = None) -> Tensor:
    """[out, in] bool mask keeping the highest-scoring (1 − sparsity) fraction of blocks."""
    scores = block_scores(weight, block, importance)
    k = int(round(sparsity * scores.numel()))
    keep = torch.ones_like(scores, dtype=torch.bool)
    if k > 0:
        drop = scores.flatten().argsort()[:k]  # exact count, ties broken by position
        keep.view(-1)[drop] = False
    bo, bi = block
    full = keep.repeat_interleave(bo, 0).repeat_interleave(bi, 1)
    return full[: weight.shape[0], : weight.shape[1]].contiguous()
