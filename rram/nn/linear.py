"""``CrossbarLinear``: an ordinary nn.Module that computes with crossbar-programmed weights.

It keeps the latent float weight (a Parameter, for retraining) and the derived state (per-channel
Δ, per-group α, optional keep mask). The effective weight is Δ·(α·N + λ·D): λ = 0 (default) is
what the crossbar holds. In training mode gradients reach the latent weight through a straight-
through estimator; in eval mode the weight is computed once and cached. Optional: per-token input
quantization, ADC quantization of each crossbar row-tile's partial sums, seeded programming noise.

Example::

    >>> import torch
    >>> from rram.nn.linear import CrossbarLinear
    >>> from rram.nn.config import RRAMConfig
    >>> layer = CrossbarLinear.from_linear(torch.nn.Linear(256, 64), RRAMConfig())
    >>> layer(torch.randn(2, 256)).shape
    torch.Size([2, 64])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rram import gptq, methods
from rram.mapping import LayerMap, map_layer
from rram.nn.config import RRAMConfig
from rram.reconstruct import expand_groups, n_groups


def fake_quant(x: Tensor, bits: int, dim: int = -1) -> Tensor:
    """Symmetric dynamic quantization along ``dim`` (per token / per tile), returned dequantized."""
    qmax = 2 ** (bits - 1) - 1
    scale = x.abs().amax(dim=dim, keepdim=True).clamp_min(1e-12) / qmax
    return torch.round(x / scale).clamp(-qmax, qmax) * scale


class CrossbarLinear(nn.Module):
    """Linear layer mapped to RRAM crossbars (see module docstring)."""

    def __init__(self, in_features: int, out_features: int, bias: bool, config: RRAMConfig, seed: int = 0):
        super().__init__()
        self.in_features, self.out_features, self.config, self.seed = in_features, out_features, config, seed
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None
        ng = n_groups(in_features, config.method.reconstruct.group_size)
        self.register_buffer("delta", torch.ones(out_features, 1))
        self.register_buffer("alpha", torch.ones(out_features, ng))
        masked = config.method.name in methods.baselines.BLOCKS or config.method.reconstruct.prune_fraction > 0
        self.register_buffer("keep", torch.ones(out_features, in_features, dtype=torch.bool) if masked else None)
        self.register_buffer("lam", torch.tensor(0.0))
        self.register_buffer("importance", None, persistent=False)
        self._cache: Tensor | None = None

    @classmethod
    def from_linear(
        cls, linear: nn.Linear, config: RRAMConfig, importance: Tensor | None = None, seed: int = 0,
        hessian: Tensor | None = None,
    ) -> CrossbarLinear:
        """The layer of ``linear`` under ``config``. importance: per-input-row weights for the scale search and
        masks; hessian: the layer's input XᵀX, which a compensated method (``compensate=True``) needs."""
        layer = cls(linear.in_features, linear.out_features, linear.bias is not None, config, seed)
        with torch.no_grad():
            layer.weight.copy_(linear.weight.float())
            if linear.bias is not None:
                layer.bias.copy_(linear.bias.float())
        layer.importance = None if importance is None else importance.detach().float().flatten()
        layer.derive()
        if config.method.compensate:
            if hessian is None:
                raise ValueError(f"method {config.method.family!r} compensates errors with the layer's input Hessian: "
                                 "pass hessians from rram.calibrate(..., hessian=True) to rram.convert")
            layer.compensate(hessian)
        return layer.train(linear.training)

    # ---- state -----------------------------------------------------------------------------------
    def state(self) -> methods.MethodState:
        return methods.MethodState(self.delta, self.alpha, self.keep, self.config.method.mapped_bits)

    @torch.no_grad()
    def derive(self) -> None:
        """Re-derive Δ, α and the keep mask from the current latent weight."""
        st = methods.derive(self.weight, self.config.method, self.importance)
        self.delta.copy_(st.delta)
        self.alpha.copy_(st.alpha)
        if self.keep is not None and st.keep is not None:
            self.keep.copy_(st.keep)
        self._cache = None

    @torch.no_grad()
    def refresh(self) -> None:
        """Retraining's periodic update: re-derive Δ, α and the mask from the latent weight, except for a compensated
        method, whose latent weight was compensated for its scales and means nothing under new ones: its scales and
        mask stay fixed, and only the codes follow the latent weight."""
        if self.config.method.compensate:
            self._cache = None
        else:
            self.derive()

    @torch.no_grad()
    def compensate(self, hessian: Tensor) -> None:
        """Move the latent weight to GPTQ's compensated weight for the current Δ, α and mask (``rram.gptq``, with
        act-order: the columns of the most active inputs first)."""
        state, method = self.state(), self.config.method
        quantize = methods.column_quantizer(state, method, self.in_features)
        self.weight.copy_(gptq.compensate(self.weight, hessian, quantize, act_order=True))
        self._cache = None

    def set_lambda(self, lam: float) -> None:
        self.lam.fill_(float(lam))
        self._cache = None

    def train(self, mode: bool = True):
        self._cache = None
        return super().train(mode)

    def _load_from_state_dict(self, *args, **kwargs):
        self._cache = None
        return super()._load_from_state_dict(*args, **kwargs)

    # ---- weights ---------------------------------------------------------------------------------
    def codes(self) -> tuple[Tensor, Tensor]:
        """(Q, N): base-quantized weight and programmed key codes, integer-valued."""
        return methods.codes(self.weight.detach().float(), self.state(), self.config.method)

    def target_weight(self, lam: float | None = None, noise: bool = False) -> Tensor:
        """Δ·(α·N + λ·D) from the current latent weight (no gradient)."""
        lam = float(self.lam) if lam is None else lam
        q, n = self.codes()
        a = expand_groups(self.alpha, self.in_features, self.config.method.reconstruct.group_size)
        key = n
        if noise and self.config.noise_std > 0:
            g = torch.Generator().manual_seed(self.seed)
            eps = torch.randn(n.shape, generator=g) * self.config.noise_std * self.config.method.code_max
            key = n + eps * (n != 0)
        w = self.delta * a * key
        if lam:
            w = w + lam * self.delta * (q - a * n)
        return w

    def effective_weight(self) -> Tensor:
        if self.training and torch.is_grad_enabled() and self.weight.requires_grad:
            target = self.target_weight()
            return self.weight + (target - self.weight).detach()  # straight-through estimator
        if self._cache is None:
            self._cache = self.target_weight(noise=True)
        return self._cache

    def forward(self, x: Tensor) -> Tensor:
        w = self.effective_weight().to(x.dtype)
        if self.config.input_quant:
            x = fake_quant(x, self.config.crossbar.input_bits)
        if self.config.adc_quant:
            return self._adc_linear(x, w)
        return F.linear(x, w, None if self.bias is None else self.bias.to(x.dtype))

    def _adc_linear(self, x: Tensor, w: Tensor) -> Tensor:
        """Partial sums of each crossbar row tile quantized to the ADC resolution, then summed.

        An approximation: a real crossbar converts per input bit and per weight slice.
        """
        rows = self.config.crossbar.rows
        ng = n_groups(self.in_features, rows)
        pad = ng * rows - self.in_features
        xt = F.pad(x, (0, pad)).unflatten(-1, (ng, rows))
        wt = F.pad(w, (0, pad)).view(self.out_features, ng, rows)
        partial = torch.einsum("...gr,ogr->...go", xt, wt)
        bits = self.config.crossbar.adc_resolution(min(rows, self.in_features))
        y = fake_quant(partial, bits, dim=-1).sum(-2)
        return y if self.bias is None else y + self.bias.to(x.dtype)

    # ---- mapping ---------------------------------------------------------------------------------
    def layer_map(self, name: str) -> LayerMap:
        """Crossbar occupancy: a cell is programmed where its key code is non-zero."""
        _, n = self.codes()
        method = self.config.method
        return map_layer(name, self.in_features, self.out_features, method.mapped_bits, self.config.crossbar, n != 0, n,
                         method.scale_format)

    def extra_repr(self) -> str:
        m = self.config.method
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}, "
            f"method={m.name}, bits={m.mapped_bits}, lam={float(self.lam):g}"
        )
