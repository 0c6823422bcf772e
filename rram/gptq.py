"""GPTQ's error compensation (Frantar et al., "GPTQ", ICLR 2023, Algorithm 1), for any code function.

A layer's input rows (weight columns) are quantized one at a time, in order; each column's rounding error,
scaled by the inverse Hessian of the layer's inputs H = XᵀX, is pushed onto the columns not yet quantized,
so that the layer's output on the calibration inputs changes least. The result here is the *compensated
latent weight*: each column as it was just before it was quantized. Rounding it with the same fixed
quantizer gives exactly GPTQ's codes, so ``CrossbarLinear`` keeps computing Δ·α·N from its latent weight.

Example: on correlated inputs, compensation lowers the output error of 2-bit rounding::

    >>> import torch
    >>> from rram.gptq import compensate, hessian_of
    >>> torch.manual_seed(0) and None
    >>> x = torch.randn(512, 16) @ torch.randn(16, 16)
    >>> w = torch.randn(8, 16)
    >>> step = w.abs().amax(1, keepdim=True)
    >>> rtn = lambda cols, j: torch.round(cols / step) * step
    >>> err = lambda v: float(((x @ (v - w).T) ** 2).mean())
    >>> err(rtn(compensate(w, hessian_of(x), rtn), 0)) < err(rtn(w, 0))
    True
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

Quantizer = Callable[[Tensor, int], Tensor]  # (column [out, 1], its index j) → the dequantized column


def hessian_of(inputs: Tensor) -> Tensor:
    """XᵀX / n of a batch of layer inputs [n, in] (GPTQ's H up to the factor 2, which cancels)."""
    x = inputs.detach().double().reshape(-1, inputs.shape[-1])
    return (x.T @ x / max(x.shape[0], 1)).float()


def inverse_hessian_factor(hessian: Tensor, damp: float = 0.01) -> Tensor:
    """Upper Cholesky factor of H⁻¹, after dampening H by ``damp`` × its mean diagonal (GPTQ's λ)."""
    h = hessian.double().clone()
    dead = h.diagonal() == 0
    h[dead, dead] = 1.0
    h.diagonal().add_(damp * h.diagonal().mean())
    inverse = torch.cholesky_inverse(torch.linalg.cholesky(h))
    return torch.linalg.cholesky(inverse, upper=True)


@torch.no_grad()
def compensate(weight: Tensor, hessian: Tensor, quantize: Quantizer, block: int = 128, damp: float = 0.01,
               act_order: bool = False) -> Tensor:
    """The compensated latent weight [out, in]: column j as it stood when ``quantize`` rounded it.

    quantize(column, j) dequantizes the layer's column j ([out, 1]) with the layer's fixed scales.
    Columns whose inputs were never active (zero Hessian diagonal) take no error from the others.
    act_order: quantize the columns with the largest Hessian diagonal first (GPTQ's "act-order"; the
    scales stay those of each column's own group). ``block``: columns updated lazily together (speed only).
    """
    if hessian.shape != (weight.shape[1], weight.shape[1]):
        raise ValueError(f"Hessian {tuple(hessian.shape)} does not match a weight with {weight.shape[1]} inputs")
    order = torch.argsort(hessian.diagonal(), descending=True, stable=True) if act_order else torch.arange(len(hessian))
    u = inverse_hessian_factor(hessian[order][:, order], damp)
    w = weight.detach().double()[:, order].clone()
    latent = torch.empty_like(w)
    for start in range(0, w.shape[1], block):
        stop = min(start + block, w.shape[1])
        wb, ub = w[:, start:stop].clone(), u[start:stop, start:stop]
        errors = torch.zeros_like(wb)
        for i in range(stop - start):
            col = wb[:, i : i + 1]
            latent[:, start + i] = col[:, 0]
            err = (col - quantize(col.float(), int(order[start + i])).double()) / ub[i, i]
            wb[:, i:] -= err @ ub[i : i + 1, i:]
            errors[:, i : i + 1] = err
        w[:, stop:] -= errors @ u[start:stop, stop:]
    out = torch.empty_like(latent)
    out[:, order] = latent
    return out.to(weight.dtype)
