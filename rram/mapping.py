"""Map a layer's (pruned, sliced) weight matrix onto R×C crossbars and count what the periphery does.

The physical matrix has rows = inputs and columns = outputs × slices × polarity, where
slices = ceil(magnitude bits / bits per cell) and polarity = 2 for differential pairs, whose two cells
carry the sign, so that a b-bit signed code has b − 1 magnitude bits (or 1 polarity plus one reference
column per crossbar for offset encoding, which slices all b bits). It is tiled into R×C crossbars; empty tiles are
not allocated. Inputs are fed bit-serially through ``dac_bits``-bit DACs (RRAM.md §3).

With ``skip_zero_slices`` the columns are laid out slice by slice instead (each slice of every output
channel together), so that crossbars, rows and columns holding only zero digits of a slice, typically
the high slices of small codes, are not programmed, driven or converted (bit-slice sparsity).

Example::

    >>> from rram.mapping import CrossbarConfig, map_layer
    >>> m = map_layer("fc", 384, 1536, bits=8, config=CrossbarConfig())
    >>> m.crossbars, m.adc_bits_max
    (288, 9)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
from torch import Tensor

ENCODINGS = ("differential", "offset")


@dataclass(frozen=True)
class CrossbarConfig:
    """Crossbar geometry and periphery.

    adc_bits: fixed ADC resolution, or None to derive it per crossbar as
    min(adc_cap, ceil(log2(active rows)) + dac_bits + bits_per_cell − 1) (ISAAC-style).
    signed_inputs: the DAC applies the sign by pulse polarity, so only input_bits − 1 magnitude
    bits are streamed (NeuRRAM-style); otherwise all input_bits are streamed. skip_zero_slices: map
    each weight slice on crossbars of its own and skip what holds only zero digits (differential only).
    """

    rows: int = 128
    cols: int = 128
    bits_per_cell: int = 2
    encoding: str = "differential"
    dac_bits: int = 1
    input_bits: int = 8
    signed_inputs: bool = False
    adc_bits: int | None = None
    adc_cap: int = 10
    cols_per_adc: int = 128
    skip_zero_slices: bool = False

    def __post_init__(self) -> None:
        if self.rows < 1 or self.cols < 2:
            raise ValueError(f"crossbar {self.rows}x{self.cols}: need rows >= 1 and cols >= 2")
        if self.encoding not in ENCODINGS:
            raise ValueError(f"encoding={self.encoding!r}: use one of {ENCODINGS}")
        if self.bits_per_cell < 1 or self.dac_bits < 1 or self.input_bits < 1:
            raise ValueError("bits_per_cell, dac_bits and input_bits must be >= 1")
        if not 1 <= self.cols_per_adc <= self.cols:
            raise ValueError(f"cols_per_adc={self.cols_per_adc}: use 1..cols ({self.cols})")
        if self.skip_zero_slices and self.encoding != "differential":
            raise ValueError("skip_zero_slices needs differential encoding (offset codes have no zero digits)")

    def slices(self, bits: int) -> int:
        """Cells per weight polarity: a differential pair carries the sign, so only the bits − 1 magnitude bits are
        sliced (5-bit codes, |N| ≤ 15, fit in two 2-bit cells); offset encoding slices all ``bits``."""
        magnitude = bits - 1 if self.encoding == "differential" else bits
        return math.ceil(max(magnitude, 1) / self.bits_per_cell)

    @property
    def polarity(self) -> int:
        return 2 if self.encoding == "differential" else 1

    @property
    def usable_cols(self) -> int:
        """Weight columns per crossbar (offset encoding spends one on the reference)."""
        return self.cols if self.encoding == "differential" else self.cols - 1

    def outputs_per_crossbar(self, bits: int) -> int:
        """Output channels whose ``bits``-bit weights fit side by side in one crossbar's columns."""
        return max(1, self.usable_cols // (self.slices(bits) * self.polarity))

    @property
    def input_cycles(self) -> int:
        streamed = max(1, self.input_bits - 1) if self.signed_inputs else self.input_bits
        return math.ceil(streamed / self.dac_bits)

    @property
    def adcs_per_crossbar(self) -> int:
        return math.ceil(self.cols / self.cols_per_adc)

    def adc_resolution(self, active_rows: int) -> int:
        if self.adc_bits is not None:
            return self.adc_bits
        need = math.ceil(math.log2(max(active_rows, 1))) + self.dac_bits + self.bits_per_cell - 1
        return min(self.adc_cap, need)


SCALE_KINDS = ("none", "float", "int", "shift")


@dataclass(frozen=True)
class ScaleFormat:
    """The digital scales applied after a layer's crossbars, once per input vector (RRAM.md §1.3, docs/rram.md).

    group: the scale of each (output, row tile) partial sum, applied before the tiles are summed: "float" (fp16,
    GPTQ's group scale, with Δ folded in), "int" (ours' integer α, ``group_bits`` wide), "shift" (a power-of-two α)
    or "none". channel_bits: the per-output step Δ applied to the summed output (fp16; 0 when folded into a float
    group scale).

    >>> ScaleFormat("int", 8).storage_bits(groups=6, outputs=3)
    96
    """

    group: str = "none"
    group_bits: int = 0
    channel_bits: int = 16

    def __post_init__(self) -> None:
        if self.group not in SCALE_KINDS:
            raise ValueError(f"group scale {self.group!r}: use one of {SCALE_KINDS}")

    def storage_bits(self, groups: int, outputs: int) -> int:
        return groups * self.group_bits + outputs * self.channel_bits


@dataclass
class LayerMap:
    """What one layer occupies and does per input vector (plain data, JSON-ready)."""

    name: str
    in_features: int
    out_features: int
    bits: int
    slices: int
    crossbars: int
    programmed_cells: int
    allocated_cells: int
    input_cycles: int
    active_rows: int  # summed over crossbars
    active_cols: int  # summed over crossbars, reference columns included
    dac_drives: int  # per input vector
    adc_conversions: int  # per input vector
    adcs: int
    max_steps_per_adc: int  # conversions one ADC does per input cycle (latency)
    conversions_by_bits: dict[int, int] = field(default_factory=dict)
    adcs_by_bits: dict[int, int] = field(default_factory=dict)
    scales: ScaleFormat = field(default_factory=lambda: ScaleFormat(channel_bits=0))  # none unless the method says
    scaled_groups: int = 0  # (output, row tile) partial sums that hold a programmed weight, each scaled once

    @property
    def scale_bits(self) -> int:
        """Bits of digital scales stored for this layer and read once per input vector."""
        return self.scales.storage_bits(self.scaled_groups, self.out_features)

    @property
    def adc_bits_max(self) -> int:
        return max(self.adcs_by_bits, default=0)

    @property
    def macs(self) -> int:
        """Dense multiply-accumulates per input vector (the useful work, pruned or not)."""
        return self.in_features * self.out_features

    def to_dict(self) -> dict:
        return asdict(self)


def _segment_any(x: Tensor, size: int, dim: int) -> Tensor:
    """Logical OR over consecutive segments of ``size`` along ``dim`` (zero-padded at the end)."""
    x = x.movedim(dim, -1)
    n = math.ceil(x.shape[-1] / size)
    x = torch.nn.functional.pad(x, (0, n * size - x.shape[-1]))
    return x.reshape(*x.shape[:-1], n, size).any(-1).movedim(-1, dim)


def _tile_sum(x: Tensor, size: int, dim: int) -> Tensor:
    x = x.movedim(dim, -1)
    n = math.ceil(x.shape[-1] / size)
    x = torch.nn.functional.pad(x, (0, n * size - x.shape[-1]))
    return x.reshape(*x.shape[:-1], n, size).sum(-1).movedim(-1, dim)


def slice_digits(codes: Tensor, bits_per_cell: int, slices: int) -> list[Tensor]:
    """The digit of each slice of |codes|, lowest slice first (sign goes to the differential pair).

    >>> [d.tolist() for d in slice_digits(torch.tensor([[5, -17]]), 2, 3)]
    [[[1, 1]], [[1, 0]], [[0, 1]]]
    """
    mag = codes.abs().long()
    return [(mag >> (s * bits_per_cell)) & (2**bits_per_cell - 1) for s in range(slices)]


def map_layer(
    name: str, in_features: int, out_features: int, bits: int, config: CrossbarConfig, active: Tensor | None = None,
    codes: Tensor | None = None, scales: ScaleFormat | None = None,
) -> LayerMap:
    """Tile one [out, in] weight onto crossbars.

    bits: weight bits programmed into cells (b_w dense, b_k for key codes). active: optional [out, in]
    bool mask of weights that must be programmed (None = dense); a crossbar is allocated only if some
    weight in it is active, and only its active rows/columns are driven and converted. codes: the
    integer codes, which ``config.skip_zero_slices`` maps slice by slice (``active`` is then ignored).
    scales: the method's digital scales, counted once per (output, row tile) that holds an active weight.
    """
    if scales is not None:
        m = map_layer(name, in_features, out_features, bits, config, active, codes)
        mask = torch.ones(out_features, in_features, dtype=torch.bool) if active is None else active.to(torch.bool)
        m.scales, m.scaled_groups = scales, int(_segment_any(mask.T, config.rows, dim=0).sum())
        return m
    if config.skip_zero_slices and codes is not None:
        one_slice = [map_layer(name, in_features, out_features, config.bits_per_cell, config, digit != 0)
                     for digit in slice_digits(codes, config.bits_per_cell, config.slices(bits))]
        return _stack_slices(one_slice, bits)
    if active is not None and tuple(active.shape) != (out_features, in_features):
        raise ValueError(f"{name}: active mask {tuple(active.shape)} != weight shape ({out_features}, {in_features})")
    c = config
    s = c.slices(bits)
    per_out = s * c.polarity
    phys_cols = out_features * per_out
    n_ct = math.ceil(phys_cols / c.usable_cols)
    # first/last output channel touching each column tile
    tile_lo = torch.arange(n_ct) * c.usable_cols
    out_lo = tile_lo // per_out
    out_hi = (torch.minimum(tile_lo + c.usable_cols, torch.tensor(phys_cols)) - 1) // per_out
    if active is None:
        rows_in_tile = torch.ones(in_features, n_ct, dtype=torch.bool)  # [in, n_ct]
        out_in_rowtile = torch.ones(math.ceil(in_features / c.rows), out_features, dtype=torch.bool)
        programmed = in_features * phys_cols
    else:
        a = active.to(torch.bool).T.contiguous()  # [in, out]
        cs = torch.nn.functional.pad(a.to(torch.int32).cumsum(1), (1, 0))  # [in, out+1]
        rows_in_tile = (cs[:, out_hi + 1] - cs[:, out_lo]) > 0
        out_in_rowtile = _segment_any(a, c.rows, dim=0)  # [n_rt, out]
        programmed = int(a.sum()) * per_out
    act_rows = _tile_sum(rows_in_tile.to(torch.int64), c.rows, dim=0)  # [n_rt, n_ct]
    col_active = out_in_rowtile.repeat_interleave(per_out, dim=1).to(torch.int64)  # [n_rt, phys_cols]
    act_cols = _tile_sum(col_active, c.usable_cols, dim=1)  # [n_rt, n_ct]
    used = act_cols > 0
    if c.encoding == "offset":
        act_cols = act_cols + used.to(torch.int64)  # one reference column per allocated crossbar
        programmed += int(act_rows[used].sum())
    cycles = c.input_cycles
    conv_by_bits: dict[int, int] = {}
    adcs_by_bits: dict[int, int] = {}
    for r, k in zip(act_rows[used].tolist(), act_cols[used].tolist()):
        b = c.adc_resolution(r)
        conv_by_bits[b] = conv_by_bits.get(b, 0) + k * cycles
        adcs_by_bits[b] = adcs_by_bits.get(b, 0) + c.adcs_per_crossbar
    n_xbar = int(used.sum())
    max_cols = int(act_cols.max()) if n_xbar else 0
    return LayerMap(
        name=name,
        in_features=in_features,
        out_features=out_features,
        bits=bits,
        slices=s,
        crossbars=n_xbar,
        programmed_cells=programmed,
        allocated_cells=n_xbar * c.rows * c.cols,
        input_cycles=cycles,
        active_rows=int(act_rows[used].sum()),
        active_cols=int(act_cols[used].sum()),
        dac_drives=int(act_rows[used].sum()) * cycles,
        adc_conversions=sum(conv_by_bits.values()),
        adcs=n_xbar * c.adcs_per_crossbar,
        max_steps_per_adc=math.ceil(max_cols / c.adcs_per_crossbar),
        conversions_by_bits=dict(sorted(conv_by_bits.items())),
        adcs_by_bits=dict(sorted(adcs_by_bits.items())),
    )


def _stack_slices(maps: list[LayerMap], bits: int) -> LayerMap:
    """One layer's map from the maps of its slices, each on crossbars of its own."""
    summed = ("crossbars", "programmed_cells", "allocated_cells", "active_rows", "active_cols", "dac_drives",
              "adc_conversions", "adcs")
    first = maps[0]
    out = LayerMap(name=first.name, in_features=first.in_features, out_features=first.out_features, bits=bits,
                   slices=len(maps), input_cycles=first.input_cycles,
                   max_steps_per_adc=max(m.max_steps_per_adc for m in maps),
                   **{k: sum(getattr(m, k) for m in maps) for k in summed})
    for m in maps:
        for field_name in ("conversions_by_bits", "adcs_by_bits"):
            merged = getattr(out, field_name)
            for b, n in getattr(m, field_name).items():
                merged[b] = merged.get(b, 0) + n
    out.conversions_by_bits = dict(sorted(out.conversions_by_bits.items()))
    out.adcs_by_bits = dict(sorted(out.adcs_by_bits.items()))
    return out


def count_crossbars(shapes: list[tuple[int, int]], bits: int, config: CrossbarConfig) -> int:
    """Dense crossbar count for a list of (in_features, out_features) layer shapes."""
    return sum(map_layer(f"l{i}", i_f, o_f, bits, config).crossbars for i, (i_f, o_f) in enumerate(shapes))
