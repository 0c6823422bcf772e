"""``RRAMConfig``: everything ``rram.convert`` needs, as one plain dataclass that round-trips through JSON.

There is one default: ``RRAMConfig()`` is ``RRAMConfig.build()`` (ours, 4 key bits, 128×128 crossbars).

Example::

    >>> from rram.nn.config import RRAMConfig
    >>> cfg = RRAMConfig()
    >>> cfg == RRAMConfig.build(), cfg.method.block_outputs
    (True, 32)
    >>> RRAMConfig.from_dict(cfg.to_dict()) == cfg
    True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from rram.mapping import CrossbarConfig
from rram.methods import MethodConfig
from rram.reconstruct import ReconstructConfig


@dataclass(frozen=True)
class RRAMConfig:
    """method: how weights become codes; crossbar: geometry/periphery; technology: cost constant set.

    input_quant: quantize layer inputs per token to crossbar.input_bits. adc_quant: quantize each
    crossbar row tile's partial sums to the ADC resolution. noise_std: programming noise on each
    programmed code, as a fraction of the largest code (seeded by ``seed`` and the layer's index).
    A method without ``block_outputs`` gets the output channels per crossbar of its mapped bits.
    """

    method: MethodConfig = field(default_factory=MethodConfig)
    crossbar: CrossbarConfig = field(default_factory=CrossbarConfig)
    technology: str = "isaac32"
    input_quant: bool = False
    adc_quant: bool = False
    noise_std: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.noise_std < 0:
            raise ValueError(f"noise_std={self.noise_std}: must be >= 0")
        if self.method.reconstruct.group_size != self.crossbar.rows:
            raise ValueError(
                f"group_size={self.method.reconstruct.group_size} != crossbar rows={self.crossbar.rows}: "
                "a group is one crossbar column segment; build the config with RRAMConfig.build(...)"
            )
        if self.method.block_outputs is None:
            per_crossbar = self.crossbar.outputs_per_crossbar(self.method.mapped_bits)
            object.__setattr__(self, "method", replace(self.method, block_outputs=per_crossbar))

    @classmethod
    def build(
        cls, method: str = "reconstruct", key_bits: int = 4, weight_bits: int = 8, sparsity: float = 0.5,
        crossbar: CrossbarConfig | None = None, **kwargs,
    ) -> RRAMConfig:
        """Flat keyword constructor; the group size follows the crossbar's rows.

        ``scales`` and ``prune_fraction`` go to the ``ReconstructConfig``, ``compensate`` and ``clip_search`` to the ``MethodConfig``,
        the rest to ``RRAMConfig``.
        """
        xbar = crossbar or CrossbarConfig()
        rc_kwargs = {k: kwargs.pop(k) for k in ("scales", "prune_fraction") if k in kwargs}
        method_kwargs = {k: kwargs.pop(k) for k in ("compensate", "clip_search") if k in kwargs}
        rc = ReconstructConfig(weight_bits=weight_bits, key_bits=key_bits, group_size=xbar.rows, **rc_kwargs)
        return cls(method=MethodConfig(name=method, reconstruct=rc, sparsity=sparsity, **method_kwargs),
                   crossbar=xbar, **kwargs)

    def with_key_bits(self, bits: int) -> RRAMConfig:
        """This config with ``bits`` key bits (pruning blocks re-derived for the new slice count)."""
        m = self.method
        return replace(self, method=replace(m, reconstruct=replace(m.reconstruct, key_bits=bits), block_outputs=None))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> RRAMConfig:
        d = dict(d)
        m = dict(d.pop("method"))
        m["reconstruct"] = ReconstructConfig(**m["reconstruct"])
        return cls(method=MethodConfig(**m), crossbar=CrossbarConfig(**d.pop("crossbar")), **d)
